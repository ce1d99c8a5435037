"""Fail when a template update left conflict markers or .rej files behind (pre-commit and CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MARKERS = ("<<<<<<< ", ">>>>>>> ", "<<<<<<<\n", ">>>>>>>\n")


def leftovers(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        if path.suffix == ".rej":
            found.append(f"{path}: rejected hunk from a template update")
            continue
        try:
            lines = path.read_text(errors="ignore").splitlines(keepends=True)
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            if line.startswith(MARKERS):
                found.append(f"{path}:{number}: conflict marker")
    return found


def main() -> None:
    command = ["git", "ls-files", "-co", "--exclude-standard"]
    listed = subprocess.run(command, capture_output=True, text=True, check=False)
    names = sys.argv[1:] or listed.stdout.split()
    problems = leftovers([Path(n) for n in names if Path(n).is_file()])
    print(*problems, sep="\n")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
