"""`python -m attain` runs the command line."""

from attain.cli.main import run

run()
