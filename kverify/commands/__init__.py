"""Subcommands and ``check`` options that live outside :mod:`kverify.cli`.

Each module registers its arguments on the parser ``kverify.cli`` builds and returns exit codes
like every other subcommand (0 holds, 1 violated, 2 usage or model error, 3 incomplete).
"""
