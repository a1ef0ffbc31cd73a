"""Unbounded proofs (``prove --pdr``) against the explicit search on the bundled specs.

For every spec under ``specs/`` and every variant of its model (or the ones named), runs the
``--pdr`` pipeline and the explicit search, and prints one markdown row: the proof's verdict,
what found the invariant and its size, the time, and whether the safety verdicts agree (a
property the proof calls ``holds`` must hold in the explicit search, and a property the
search finds violated must not be proved).  Liveness properties are left out: ``prove``
does not encode them.

    python bench/pdr_proofs.py                           # every spec and variant
    python bench/pdr_proofs.py --variant v5.13 mod_vs_cancel destroy_worker
    python bench/pdr_proofs.py --sample 0 destroy_worker   # IC3 alone

Exits 1 if any row disagrees.
"""

from __future__ import annotations

import argparse

from bundled import systems

from kverify import api
from kverify.ir.system import TransitionSystem
from kverify.result import Verdict
from kverify.smt import ProveOptions, prove_system


def row(system: TransitionSystem, sample: int, timeout: float) -> tuple[bool, str]:
    proof = prove_system(system, ProveOptions(mode="pdr", sample=sample, timeout=timeout))
    explicit = api.check_system(system)
    safety = [p.name for p in system.properties if p.kind != "liveness"]
    decided = (Verdict.HOLDS, Verdict.VIOLATED)
    said = proof.properties
    agrees = all(said[p] not in decided or explicit.properties.get(p) is said[p] for p in safety)
    extra = proof.stats.extra
    invariant = extra.get("invariant")
    if isinstance(invariant, list):
        found = f"{extra.get('method')}, {len(invariant)} clauses"
    else:
        found = proof.reason
    shown = proof.verdict.value if not proof.violated else f"violated: {', '.join(proof.violated)}"
    line = f"| {system.name} | {system.variant} | {shown} | {found} | {proof.stats.seconds:.1f} | "
    return agrees, line + ("yes |" if agrees else "NO |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="*", help="spec names (default: every spec)")
    parser.add_argument("--variant", action="append", help="only these variants (repeatable)")
    parser.add_argument("--sample", type=int, default=100_000, help="as prove --sample (default 100000)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per proof (default 600)")
    args = parser.parse_args(argv)
    print("| spec | variant | --pdr verdict | invariant found by | seconds | agrees with check |")
    print("|---|---|---|---|--:|---|")
    all_ok = True
    for system in systems(args.specs, args.variant or ()):
        ok, line = row(system, args.sample, args.timeout)
        all_ok &= ok
        print(line, flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
