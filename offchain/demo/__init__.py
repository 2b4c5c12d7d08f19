"""The pieces of `make demo`: service processes and the scripted users of each L2 system."""
