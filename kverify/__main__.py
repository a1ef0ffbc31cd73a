"""``python -m kverify``: the command line."""

from kverify.entry import run

raise SystemExit(run())
