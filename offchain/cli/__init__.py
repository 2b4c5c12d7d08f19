"""The `l2kit` command line (see main.py)."""
