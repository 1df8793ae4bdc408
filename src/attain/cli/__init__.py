"""The `attain` command line: parse arguments, call a use case, render, map errors once."""
