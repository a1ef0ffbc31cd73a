"""Benchmark the explicit engine on the bundled specs.

For every spec under ``specs/``, on the ``reference`` variant and on the newest kernel version
its model has, which carries the upstream fixes (``v5.13`` for the worker model, ``v6.12`` for
the life-cycle model), load the spec, run the breadth-first search over the full state space
(``--por``: with partial-order reduction, which the API runs only when asked) and print one
row of a markdown table:
states, transitions, search seconds, states per second and bytes per stored state (see
:meth:`kverify.explore.store.StateStore.bytes_per_state`).  The large spec
``delayed_callers_3`` (millions of states, about a minute per variant) is left out by
``--quick``.

    python bench/bench.py                 # every spec, reference and fixed
    python bench/bench.py --quick         # skip delayed_callers_3
    python bench/bench.py --por           # with partial-order reduction
    python bench/bench.py --compare-por   # both, with the reduction's ratios
    python bench/bench.py --out FILE.md   # also write the table to FILE.md

This is a measurement, not a test: it exits 0 whatever the verdicts are.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("kverify") is None:  # a checkout where kverify is not installed
    sys.path.insert(0, str(ROOT))

import kverify  # noqa: E402
from kverify import api  # noqa: E402
from kverify.errors import KverifyError  # noqa: E402
from kverify.result import Result  # noqa: E402

LARGE = {"delayed_callers_3"}  # specs that --quick leaves out


@dataclass(frozen=True)
class Row:
    spec: str
    variant: str
    verdict: str
    states: int
    transitions: int
    load_seconds: float
    seconds: float
    cpu_seconds: float
    states_per_second: float
    bytes_per_state: float

    @classmethod
    def of(cls, result: Result, load_seconds: float, cpu_seconds: float) -> Row:
        s = result.stats
        return cls(
            spec=result.spec,
            variant=result.variant,
            verdict=result.verdict.value,
            states=s.states,
            transitions=s.transitions,
            load_seconds=load_seconds,
            seconds=s.seconds,
            cpu_seconds=cpu_seconds,
            states_per_second=s.states_per_second,
            bytes_per_state=s.bytes_per_state,
        )


def run_one(spec: Path, variant: str, por: bool) -> Row:
    """Load and check one spec variant; the search time excludes loading and compiling."""
    gc.collect()
    started = time.perf_counter()
    system = api.load_system(str(spec), variant)
    loaded = time.perf_counter() - started
    cpu = time.process_time()
    result = api.check_system(system, por=True) if por else api.check_system(system)
    return Row.of(result, loaded, time.process_time() - cpu)


def newest_kernel(spec: Path) -> list[str]:
    """The newest kernel version among the variants of the spec's model (named ``vMAJOR.MINOR``,
    the one that carries the upstream fixes), as a list of zero or one name."""
    versions = [name for name, _ in api.variants(str(spec)) if re.fullmatch(r"v\d+\.\d+", name)]
    return [max(versions, key=lambda v: tuple(int(x) for x in v[1:].split(".")))] if versions else []


def machine_lines() -> list[str]:
    """Python version, machine and the commit measured, as markdown list items."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- machine: {platform.system()} {platform.machine()}, {cpu}, nproc {usable}",
        f"- kverify: {kverify.__version__}{_commit()}",
    ]
    return lines


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f" (commit {out}{', with local changes' if dirty else ''})"


def table(rows: list[Row]) -> list[str]:
    header = (
        "| spec | variant | verdict | states | transitions | load s | search s | cpu s | states/s "
        "| bytes/state |"
    )
    lines = [header, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        lines.append(
            f"| {r.spec} | {r.variant} | {r.verdict} | {r.states:,} | {r.transitions:,} "
            f"| {r.load_seconds:.2f} | {r.seconds:.2f} | {r.cpu_seconds:.2f} | {r.states_per_second:,.0f} "
            f"| {r.bytes_per_state:.0f} |"
        )
    return lines


def por_table(pairs: list[tuple[Row, Row]]) -> list[str]:
    """Full search beside the reduced one, with the ratios (full / reduced)."""
    lines = [
        "| spec | variant | verdict | states | states --por | ratio | transitions | transitions --por "
        "| ratio | search s | search s --por |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for full, red in pairs:
        same = full.verdict if full.verdict == red.verdict else f"{full.verdict} / {red.verdict} (DIFFER)"
        lines.append(
            f"| {full.spec} | {full.variant} | {same} | {full.states:,} | {red.states:,} "
            f"| {full.states / red.states:.2f} | {full.transitions:,} | {red.transitions:,} "
            f"| {full.transitions / red.transitions:.2f} | {full.seconds:.2f} | {red.seconds:.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the large specs (delayed_callers_3)")
    parser.add_argument(
        "--por", action="store_true", help="with partial-order reduction (default: full state space)"
    )
    parser.add_argument(
        "--compare-por", action="store_true", help="both searches, with the reduction's ratios"
    )
    parser.add_argument("--out", metavar="FILE", help="also write the markdown to FILE")
    parser.add_argument("--specs", metavar="DIR", default=str(ROOT / "specs"), help="spec folder")
    args = parser.parse_args(argv)

    specs = sorted(Path(args.specs).glob("*.kvs"))
    if args.quick:
        specs = [s for s in specs if s.stem not in LARGE]
    if not specs:
        print(f"no specs under {args.specs}", file=sys.stderr)
        return 2

    rows: list[Row] = []
    pairs: list[tuple[Row, Row]] = []
    for spec in specs:
        for variant in ["reference", *newest_kernel(spec)]:
            print(f"  {spec.stem} {variant} ...", file=sys.stderr, flush=True)
            try:
                if args.compare_por:
                    pairs.append((run_one(spec, variant, False), run_one(spec, variant, True)))
                else:
                    rows.append(run_one(spec, variant, args.por))
            except KverifyError as exc:
                print(exc.render(), file=sys.stderr)
                return 2
    if args.compare_por:
        head = ["## Partial-order reduction against the full search", "", *machine_lines(), ""]
        return publish("\n".join([*head, *por_table(pairs)]) + "\n", args.out)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    mode = "partial-order reduction" if args.por else "full state space"
    out = [f"## Explicit engine, breadth-first, {mode}, one core", "", *machine_lines(), ""]
    out += table(rows)
    out += [
        "",
        "load s: parse, lower, cut steps, run init (wall).  search s: the search (wall, from the",
        "result's statistics).  cpu s: CPU time of compile + search.  states/s = states / search s.",
        "",
        f"Peak resident memory of the whole run: {peak_mib:,.0f} MiB.",
    ]
    big = [r for r in rows if r.spec in LARGE and r.variant != "reference"]
    for r in big:
        out += [
            "",
            f"Full state space of {r.spec} on {r.variant}: {r.states:,} states, "
            f"{r.transitions:,} transitions, {r.seconds:.1f} s, {r.cpu_seconds:.1f} s of CPU ({r.verdict}).",
        ]
    return publish("\n".join(out) + "\n", args.out)


def publish(text: str, out: str | None) -> int:
    """Print the markdown, and write it to ``out`` too when given."""
    sys.stdout.write(text)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
