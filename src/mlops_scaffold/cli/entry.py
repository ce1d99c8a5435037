"""The console script's entry point: Ctrl-C at any moment is one line and exit 130, never a traceback."""

import signal
import sys


def _interrupted_while_starting(_signum: int, _frame: object) -> None:
    # nothing has been written yet: leave at once, without unwinding half-done imports
    sys.stderr.write("mlops-scaffold: error: interrupted\n")
    sys.stderr.flush()
    import os

    os._exit(130)


def run() -> None:
    """Start the CLI: while modules load, Ctrl-C leaves at once; once a command runs, it raises
    KeyboardInterrupt, so temporary files are removed and nothing is left half-written."""
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from mlops_scaffold.cli.main import main

    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = main()
    except KeyboardInterrupt:  # between main's own handler and here
        sys.stderr.write("mlops-scaffold: error: interrupted\n")
        code = 130
    sys.exit(code)
