"""Moved into the package: `bartender loadtest` (backend/bartender/loadtest/). This path is
kept so that `python tests/load/loadtest.py ...` from older notes still works."""

from __future__ import annotations

import sys

from bartender.loadtest.command import main

if __name__ == "__main__":
    sys.exit(main())
