"""``python -m kverify``: the command line."""

from kverify.cli import main

raise SystemExit(main())
