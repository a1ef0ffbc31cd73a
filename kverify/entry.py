"""The ``kverify`` command's entry point.

It imports nothing heavy itself, so that Ctrl-C at any moment, even while Python is still
importing the checker, ends the command with exit code 3 and a one-line message instead of a
traceback (:func:`kverify.cli.main` handles an interrupt during the search itself, keeping the
statistics and counterexamples found so far).
"""

from __future__ import annotations

import sys

INTERRUPTED = 3


def run() -> int:
    """Import the command line and run it; an interrupt anywhere is exit code 3."""
    try:
        from kverify.cli import main

        return main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
