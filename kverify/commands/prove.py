"""``kverify prove SPEC``: the symbolic engine (z3) on one spec.

Modes: ``--bmc K`` (bounded model checking to depth K, the default with K = 25),
``--induction`` (each property by induction relative to the spec's invariants, with the
counterexample to induction classified as reachable or not), ``--k-induction K`` and
``--pdr`` (an unbounded proof: an inductive invariant found with the help of the explicit
engine's states by Houdini, strengthening and IC3 (see ``kverify.smt.pdr``), or with
``--pdr-engine spacer`` by z3's Spacer; the invariant is printed).
Several modes may be given; each prints its own result.  Output formats and exit codes are
those of ``check``: 0 holds, 1 violated, 2 usage or model error, 3 incomplete (a bound, a
time limit, or a property that is not inductive).

z3 is imported only when this command runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kverify import api
from kverify.commands.argtypes import count, positive, seconds
from kverify.commands.outputs import check_output_paths, emit
from kverify.errors import KverifyError
from kverify.report import FORMATS, exit_code, render_result
from kverify.result import Result
from kverify.smt import PDR_ENGINES


def register(sub: Any) -> None:
    """Add the ``prove`` subcommand to the subparsers of ``kverify``."""
    parser = sub.add_parser("prove", help="BMC, induction and unbounded proofs with z3")
    parser.add_argument("spec", metavar="SPEC", help="spec file (.kvs)")
    parser.add_argument("--variant", metavar="NAME", help="model variant (default: reference)")
    parser.add_argument(
        "--bmc", type=count, metavar="K",
        help="bounded model checking to depth K (the mode when none is given, with K = 25)",
    )  # fmt: skip
    parser.add_argument("--induction", action="store_true", help="is each property inductive?")
    parser.add_argument("--k-induction", type=positive, metavar="K", help="k-induction up to K")
    parser.add_argument("--pdr", action="store_true", help="unbounded proof (IC3 / PDR)")
    parser.add_argument(
        "--pdr-engine", choices=PDR_ENGINES, default="ic3",
        help="what --pdr runs: kverify's IC3 on the bit-vector encoding (default) or z3's Spacer",
    )  # fmt: skip
    parser.add_argument(
        "--sample", type=count, metavar="N",
        help="states the explicit search may visit to guide --pdr (100000; 0: IC3 alone)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=seconds, default=600.0, metavar="S", help="seconds the PDR engine may run (600)"
    )
    parser.add_argument(
        "--max-states",
        type=count,
        default=2_000_000,
        metavar="N",
        help="bound of the explicit search that classifies counterexamples to induction",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--out", metavar="FILE", help="write the output to FILE")
    parser.set_defaults(handler=run_prove)


def run_prove(args: argparse.Namespace) -> int:
    """The ``prove`` subcommand; returns the exit code."""
    from kverify.smt import ProveOptions, prove_system

    api.require_file(args.spec)
    check_output_paths(args, [args.spec])
    if args.sample is not None and not (args.pdr and args.pdr_engine == "ic3"):
        raise KverifyError(
            "--sample guides only the IC3 engine of --pdr", hint="add --pdr, or drop --sample"
        )
    system = api.load_system(args.spec, args.variant)
    modes = _modes(args)
    results = []
    for mode in modes:
        options = ProveOptions(
            mode=mode,
            depth=args.bmc if args.bmc is not None else 25,
            k=args.k_induction or 1,
            timeout=args.timeout,
            max_states=args.max_states,
            engine=args.pdr_engine,
            sample=100_000 if args.sample is None else args.sample,
        )
        results.append(prove_system(system, options))
    emit(_render(results, args.format), args.out)
    return exit_code(results)


def _modes(args: argparse.Namespace) -> list[str]:
    modes = []
    if args.bmc is not None:
        modes.append("bmc")
    if args.induction:
        modes.append("induction")
    if args.k_induction is not None:
        modes.append("k-induction")
    if args.pdr:
        modes.append("pdr")
    return modes or ["bmc"]


def _render(results: list[Result], fmt: str) -> str:
    if fmt == "json":
        data = [_json(r) for r in results]
        return json.dumps(data[0] if len(data) == 1 else data, indent=2) + "\n"
    return "\n".join(_text(r, fmt) for r in results)


# What the --pdr pipeline reports about its stages (kverify/smt/pdr.py), in this order.
PROOF_STATS = (
    "sampled states", "sample complete", "houdini clauses", "strengthening clauses",
    "ic3 frames", "ic3 lemmas", "ic3 queries",
)  # fmt: skip


def _json(result: Result) -> dict[str, Any]:
    data = result.to_json()
    extra = result.stats.extra
    if "invariant" in extra:
        data["invariant"] = extra["invariant"]
    proof = {k: extra[k] for k in PROOF_STATS if k in extra}
    if proof:
        data["proof"] = proof
    return data


def _text(result: Result, fmt: str) -> str:
    text = f"[{result.engine}]\n" + render_result(result, fmt)
    extra = result.stats.extra
    proof = ", ".join(f"{k} {extra[k]}" for k in PROOF_STATS if k in extra)
    if proof:
        text += f"  proof: {proof}\n"
    invariant = extra.get("invariant")
    if invariant is not None:
        lines = "\n".join(f"    {line}" for line in invariant)
        method = extra.get("method", "Spacer")
        text += f"\ninductive invariant found by {method} ({len(invariant)} clauses):\n{lines}\n"
    return text
