"""The ``kverify`` command line.

``kverify check [SPEC...]`` checks specs (by default every ``specs/*.kvs`` under the current
directory) and prints a summary and the counterexamples.  Exit codes: 0 every property holds,
1 a property is violated, 2 a usage or model error, 3 a limit was reached before the end.
This is the only module that prints or chooses an exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import kverify
from kverify import api
from kverify.commands.argtypes import count, seconds
from kverify.commands.export import register as register_export
from kverify.commands.graph import register as register_graph
from kverify.commands.outputs import (
    add_output_options,
    check_output_paths,
    emit,
    final_exit_code,
    interrupted,
    json_summary,
    strict_failures,
    write_outputs,
)
from kverify.commands.prove import register as register_prove
from kverify.commands.replay import register as register_replay
from kverify.errors import KverifyError
from kverify.report import FORMATS, render_results
from kverify.result import Checked, Result, Stats, Verdict


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except (
        SystemExit
    ) as exc:  # argparse reports usage errors with code 2, --help with 0
        return exc.code if isinstance(exc.code, int) else 2
    handler = run_check if args.command == "check" else getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except KverifyError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 3
    except BrokenPipeError:
        # The reader went away (`kverify check | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 2
    except RecursionError:
        print(
            "error: the model nests too deeply for kverify (expression or block nesting)\n"
            "hint: split the deep expression or block into several statements",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:
        if os.environ.get("KVERIFY_DEBUG"):
            raise
        print(
            f"error: internal error of kverify: {type(exc).__name__}: {exc}\n"
            "hint: this is a bug of kverify, not of your model; "
            "rerun with KVERIFY_DEBUG=1 for the traceback and report it",
            file=sys.stderr,
        )
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kverify``."""
    parser = argparse.ArgumentParser(
        prog="kverify",
        description="Model checker for Linux kernel concurrency protocols.",
    )
    parser.add_argument("--version", action="version", version=f"kverify {kverify.__version__}")
    sub = parser.add_subparsers(dest="command")
    check = sub.add_parser("check", help="check specs (default: specs/*.kvs)")
    check.add_argument("specs", nargs="*", metavar="SPEC", help="spec files (.kvs)")
    check.add_argument(
        "--variant", metavar="NAME", help="model variant (default: reference)"
    )
    check.add_argument(
        "--list-variants", action="store_true", help="list the model variants"
    )
    check.add_argument(
        "--max-states", type=count, metavar="N", help="stop after N states"
    )
    check.add_argument(
        "--max-depth", type=count, metavar="N", help="expand states up to depth N"
    )
    check.add_argument(
        "--time-limit", type=seconds, metavar="S", help="stop after S seconds"
    )
    check.add_argument(
        "--strategy", choices=("bfs", "dfs"), default="bfs", help="search order"
    )
    check.add_argument(
        "--audit-por",
        action="store_true",
        help="check in every reachable state that the steps the reduction treats as "
        "independent commute (exit 1 if not)",
    )
    check.add_argument(
        "--por",
        dest="por",
        action="store_true",
        default=None,
        help="partial-order reduction with strong stubborn sets (the default with the "
        "breadth-first search; see docs/engine.md)",
    )
    check.add_argument(
        "--no-por",
        dest="por",
        action="store_false",
        help="explore every interleaving (shortest counterexamples; the default with "
        "--strategy dfs)",
    )
    check.add_argument(
        "--compare-por",
        action="store_true",
        help="also run the full search: report its states, transitions and time beside the "
        "reduced run's, with the ratios, and check that both reach the same verdicts",
    )
    check.add_argument(
        "--no-fairness",
        dest="fairness",
        action="store_false",
        default=True,
        help="drop every fairness assumption of the liveness properties (see docs/liveness.md)",
    )
    check.add_argument(
        "--format", choices=FORMATS, default="text", help="output format"
    )
    check.add_argument("--out", metavar="FILE", help="write the output to FILE")
    add_output_options(check)
    register_replay(sub)
    register_graph(sub)
    register_export(sub)
    register_prove(sub)
    return parser


def find_specs(root: Path) -> list[str]:
    """The ``specs/*.kvs`` files under ``root``, sorted."""
    return sorted(str(p) for p in (root / "specs").glob("*.kvs") if p.is_file())


def run_check(args: argparse.Namespace) -> int:
    """The ``check`` subcommand."""
    specs: list[str] = list(args.specs) or find_specs(Path.cwd())
    if not specs:
        raise KverifyError(
            "no spec given and no specs/*.kvs under the current directory",
            hint="name a spec file: kverify check path/to/spec.kvs",
        )
    check_output_paths(args, specs)
    if args.por and args.strategy != "bfs":
        raise KverifyError(
            "partial-order reduction needs the breadth-first search (its cycle proviso is "
            "stated for it)",
            hint="drop --strategy dfs, or --por",
        )
    if args.por is None:
        args.por = args.strategy == "bfs"
    if args.compare_por and not args.por:
        raise KverifyError(
            "--compare-por compares the reduced search with the full one, and the reduction "
            "is off here",
            hint="drop --strategy dfs (the reduction needs the breadth-first search)"
            if args.strategy != "bfs"
            else "drop --no-por",
        )
    if args.compare_por and args.audit_por:
        raise KverifyError(
            "--audit-por and --compare-por are two different checks of the reduction",
            hint="run them one at a time",
        )
    if args.list_variants:
        return _list_variants(specs, args.out)
    if args.audit_por:
        return _audit_por(specs, args)
    checked: list[Checked] = []
    for spec in specs:
        checked.append(_check_one(spec, args))
        if interrupted(checked[-1]):
            break  # Ctrl-C: report what was found so far, check no further spec
    results = [c.result for c in checked]
    text = render_results(results, args.format) + write_outputs(checked, args)
    if args.json == "-":
        # standard output carries the JSON alone; the report goes to --out or standard error
        if args.out:
            emit(text, args.out)
        else:
            sys.stderr.write(text)
        sys.stdout.write(json_summary(checked, args))
    else:
        emit(text, args.out)
    for line in strict_failures(checked) if args.strict else []:
        print(line, file=sys.stderr)
    return final_exit_code(checked, args)


def _audit_por(specs: list[str], args: argparse.Namespace) -> int:
    """``--audit-por``: the independence premise of the reduction, checked state by state."""
    lines: list[str] = []
    bad = False
    for spec in specs:
        api.require_file(spec)
        states, problems = api.audit_por(api.load_system(spec, args.variant), args.max_states)
        verdict = "independence holds" if not problems else f"{len(problems)} problem(s)"
        lines.append(f"{spec}: audited {states} states: {verdict}")
        lines.extend(f"  {p}" for p in problems)
        bad = bad or bool(problems)
    emit("\n".join(lines) + "\n", args.out)
    return 1 if bad else 0


def _list_variants(specs: list[str], out: str | None) -> int:
    lines: list[str] = []
    for spec in specs:
        if len(specs) > 1:
            lines.append(f"{spec}:")
        found = api.variants(spec)
        width = max(len(name) for name, _ in found)
        lines.extend(f"{name:<{width}}  {description}" for name, description in found)
    emit("\n".join(lines) + "\n", out)
    return 0


def _check_one(spec: str, args: argparse.Namespace) -> Checked:
    try:
        with _progress(spec) as observer:
            return api.check_spec(
                spec,
                args.variant,
                max_states=args.max_states,
                max_depth=args.max_depth,
                time_limit=args.time_limit,
                strategy=args.strategy,
                observer=observer,
                por=args.por,
                coverage=args.coverage or args.strict,
                min_switches=args.min_switches,
                fairness=args.fairness,
                compare_por=args.compare_por,
            )
    except KverifyError as exc:
        print(exc.render(), file=sys.stderr)
        return Checked(spec, Result.error(spec, args.variant or "reference", exc.message))
    except KeyboardInterrupt:  # before the search started: nothing found yet
        variant = args.variant or "reference"
        return Checked(spec, Result(spec, variant, Verdict.INCOMPLETE, reason="interrupted"))




# ---------------------------------------------------------------------- progress


class ProgressLine:
    """An observer that keeps one status line on the terminal up to date."""

    def __init__(self, spec: str, status: Any) -> None:
        self.spec = spec
        self.status = status

    def progress(self, stats: Stats) -> None:
        """Show states, states/s, depth, frontier size and the memory in use."""
        queue = stats.extra.get("queue", 0)
        self.status.update(
            f"{self.spec}: {stats.states:,} states  {stats.states_per_second:,.0f}/s"
            f"  depth {stats.max_depth}  frontier {queue:,}  memory {_memory_mib():,.0f} MiB"
        )


def _memory_mib() -> float:
    """The peak resident memory of this process, in MiB (0 where it cannot be measured)."""
    try:
        import resource
    except ImportError:  # not on every platform
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


@contextmanager
def _progress(spec: str) -> Iterator[ProgressLine | None]:
    """A progress line on stderr while ``spec`` is checked, only when output is a terminal."""
    if not (_is_tty(sys.stdout) and _is_tty(sys.stderr)):
        yield None
        return
    from rich.console import Console

    with Console(stderr=True).status(f"{spec}: starting") as status:
        yield ProgressLine(spec, status)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
