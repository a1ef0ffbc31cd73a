"""``kverify export --promela SPEC -o FILE``: the spec's transition system in Promela.

A second opinion from an independent checker: the file has the same atomic steps and the same
checks as kverify's model (see :mod:`kverify.export.promela` for what is and is not exported),
so SPIN (``spin -a FILE && gcc -O2 -DSAFETY -o pan pan.c && ./pan``) must reach the same
verdict.
"""

from __future__ import annotations

import argparse
from typing import Any

from kverify import api
from kverify.commands.outputs import write_file


def register(sub: Any) -> None:
    """Add the ``export`` subcommand to the subparsers of ``kverify``."""
    parser = sub.add_parser("export", help="write a spec's model in another checker's language")
    parser.add_argument("spec", metavar="SPEC", help="spec file (.kvs)")
    parser.add_argument("--promela", action="store_true", required=True, help="Promela, for SPIN")
    parser.add_argument("--variant", metavar="NAME", help="model variant (default: reference)")
    parser.add_argument("-o", "--out", metavar="FILE", required=True, help="the file to write")
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    """The ``export`` subcommand; returns the exit code."""
    from kverify.export.promela import export_promela

    api.require_file(args.spec)
    text = export_promela(api.load_system(args.spec, args.variant))
    write_file(args.out, text)
    print(f"wrote {args.out}")
    return 0
