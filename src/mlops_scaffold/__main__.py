"""Allow `python -m mlops_scaffold`."""

from mlops_scaffold.cli.entry import run

run()
