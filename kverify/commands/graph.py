"""``kverify graph SPEC --dot FILE``: the whole state space of a small spec as Graphviz DOT.

Meant for small scenarios (the default cap is 2,000 states): the graph of a larger one is no
longer readable.  Exit codes as for ``check``: 1 when a property is violated (the graph is still
written, the counterexample highlighted), 3 when the state space exceeds ``--max-states``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kverify import api
from kverify.errors import KverifyError
from kverify.explore.compile import compile_system
from kverify.explore.frontier import BfsFrontier
from kverify.explore.search import Limits, search
from kverify.explore.store import StateStore
from kverify.export.dot import render_dot
from kverify.report import exit_code, render_summary

DEFAULT_MAX_STATES = 2000


def register(sub: Any) -> None:
    """Add the ``graph`` subcommand to the subparsers of ``kverify``."""
    parser = sub.add_parser("graph", help="write the state space of a small spec as DOT")
    parser.add_argument("spec", metavar="SPEC", help="spec file (.kvs)")
    parser.add_argument("--dot", metavar="FILE", required=True, help="the DOT file to write")
    parser.add_argument("--variant", metavar="NAME", help="model variant (default: reference)")
    parser.add_argument(
        "--max-states",
        type=int,
        default=DEFAULT_MAX_STATES,
        metavar="N",
        help=f"refuse state spaces larger than N (default {DEFAULT_MAX_STATES})",
    )
    parser.set_defaults(handler=run_graph)


def run_graph(args: argparse.Namespace) -> int:
    """The ``graph`` subcommand; returns the exit code."""
    api.require_file(args.spec)
    system = api.load_system(args.spec, args.variant)
    compiled = compile_system(system)
    store = StateStore()
    result = search(compiled, Limits(max_states=args.max_states), frontier=BfsFrontier(), store=store)
    print(render_summary(result))
    if result.reason:  # a limit stopped the search (a violation found first does not count)
        print(
            f"the state space has more than {args.max_states} states: too large to draw "
            "(raise --max-states, or draw a smaller scenario)",
            file=sys.stderr,
        )
        return 3
    try:
        Path(args.dot).write_text(render_dot(compiled, store, result), encoding="utf-8")
    except OSError as exc:
        raise KverifyError(f"cannot write {args.dot}: {exc.strerror}") from None
    print(f"wrote {args.dot}: {len(store)} states")
    return exit_code([result])
