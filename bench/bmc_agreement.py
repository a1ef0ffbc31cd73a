"""Bounded model checking against breadth-first search on the bundled specs.

For every spec under ``specs/`` and every variant of its model, breadth-first search to depth
K (``--depth``; ``--full``: the whole state space, K its depth) gives the shortest violation
of each safety property; BMC unrolls the same transition system in z3 to depth K and must find
exactly the properties BFS violates within K steps, each at the same depth.  Since the
unrolling is incremental, this checks "BMC finds a violation at depth k exactly when BFS finds
one at depth <= k" for every k <= K at once.  Every BMC trace is rebuilt and replayed on the
explicit engine as it is found.

    python bench/bmc_agreement.py                  # K = 12 on every spec and variant
    python bench/bmc_agreement.py --depth 25 mod_vs_cancel
    python bench/bmc_agreement.py --full           # K = the search's depth (hours)

Prints one markdown row per spec and variant; exits 1 if any row disagrees.
"""

from __future__ import annotations

import argparse
import time

from bundled import systems

from kverify import api
from kverify.ir.system import TransitionSystem
from kverify.smt.bmc import cross_check


def agree(system: TransitionSystem, depth: int | None) -> tuple[bool, str]:
    """Cross-check BFS and BMC on ``system`` to ``depth`` (None: the search's whole depth);
    whether they agree, and a markdown row."""
    if depth is None:
        depth = api.check_system(system).stats.max_depth
    started = time.perf_counter()
    out = cross_check(system, depth)
    seconds = time.perf_counter() - started
    shown = ", ".join(f"{p}@{d}" for p, d in sorted(out.bmc.items(), key=lambda x: x[1])) or "none"
    verdict = "yes" if out.agrees else f"NO (bfs: {out.bfs})"
    return out.agrees, f"| {system.name} | {system.variant} | {depth} | {shown} | {verdict} | {seconds:.1f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="*", help="spec names (default: every spec)")
    parser.add_argument("--depth", type=int, default=12, help="BMC depth K (default 12)")
    parser.add_argument("--full", action="store_true", help="unroll to the search's depth")
    args = parser.parse_args(argv)
    print("| spec | variant | depth | BMC violations (property@depth) | agrees with BFS | seconds |")
    print("|---|---|--:|---|---|--:|")
    all_ok = True
    for system in systems(args.specs):
        ok, row = agree(system, None if args.full else args.depth)
        all_ok &= ok
        print(row, flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
