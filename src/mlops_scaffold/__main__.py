"""Allow `python -m mlops_scaffold`."""

from mlops_scaffold.cli.main import run

run()
