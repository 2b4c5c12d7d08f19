"""`python -m offchain.cli ...` runs the `l2kit` command."""

from offchain.cli.main import main

main()
