"""The report options of ``kverify check``: trace files, CI reports, coverage and --strict.

``--itf FILE`` and ``--html FILE`` write the counterexamples, ``--junit``, ``--sarif`` and
``--json`` the CI reports; ``--coverage`` prints the statements never executed and the
properties never exercised, and ``--strict`` turns either into exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kverify.errors import KverifyError
from kverify.export.junit import render_junit
from kverify.export.sarif import render_sarif
from kverify.result import Checked, Coverage, Verdict
from kverify.trace.html import render_html, result_title
from kverify.trace.itf import trace_to_itf


def add_output_options(check: argparse.ArgumentParser) -> None:
    """Add the report options to the ``check`` parser."""
    group = check.add_argument_group("reports")
    group.add_argument("--itf", metavar="FILE", help="write each counterexample as ITF JSON")
    group.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    group.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    group.add_argument("--sarif", metavar="FILE", help="write a SARIF 2.1.0 report")
    group.add_argument(
        "--json", metavar="FILE", help="write a JSON summary of every result ('-': stdout)"
    )
    group.add_argument(
        "--coverage",
        action="store_true",
        help="list statements never executed and properties never exercised (vacuous)",
    )
    group.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a statement never ran or a property is vacuous (implies --coverage)",
    )
    group.add_argument(
        "--min-switches",
        action="store_true",
        help="among the shortest counterexamples show one with the fewest context switches",
    )


def write_outputs(checked: list[Checked], args: argparse.Namespace) -> str:
    """Write every requested report file; return text for standard output (coverage)."""
    if args.itf:
        for path, doc in itf_documents(checked, args.itf).items():
            write_file(path, json.dumps(doc, indent=1) + "\n")
    if args.html:
        title = result_title([c.result for c in checked])
        write_file(args.html, render_html(checked, title))
    if args.junit:
        write_file(args.junit, render_junit([c.result for c in checked]))
    if args.sarif:
        write_file(args.sarif, render_sarif(checked))
    out = ""
    if args.json and args.json != "-":
        write_file(args.json, json_summary(checked, args))
    if (args.coverage or args.strict) and getattr(args, "format", "text") != "json":
        out += "".join(render_coverage(c) for c in checked if c.result.coverage is not None)
    return out


def json_summary(checked: list[Checked], args: argparse.Namespace) -> str:
    """The ``--json`` document: the exit code and every result."""
    summary = {
        "exit_code": final_exit_code(checked, args),
        "results": [c.result.to_json() for c in checked],
    }
    return json.dumps(summary, indent=2) + "\n"


OUTPUT_OPTIONS = ("out", "itf", "html", "junit", "sarif", "json")


def check_output_paths(args: argparse.Namespace, inputs: list[str]) -> None:
    """Refuse, before any search, an output path that cannot be written or that names an
    input (a spec or model file) or another output."""
    taken: dict[Path, str] = {Path(p).resolve(): "the spec" for p in inputs}
    for option in OUTPUT_OPTIONS:
        path = getattr(args, option, None)
        if not path or path == "-":
            continue
        flag = f"--{option}"
        target = Path(path)
        resolved = target.resolve()
        if resolved in taken:
            raise KverifyError(
                f"{flag} {path} would overwrite {taken[resolved]}",
                hint="give the report a file name of its own",
            )
        if resolved.suffix in (".kvs", ".kvl") and resolved.exists():
            raise KverifyError(
                f"{flag} {path} would overwrite a model file",
                hint="give the report a file name of its own",
            )
        if target.is_dir():
            raise KverifyError(f"{flag} {path} is a directory", hint="give a file name")
        parent = target.parent if str(target.parent) else Path(".")
        if not parent.is_dir():
            raise KverifyError(
                f"cannot write {path}: no such directory {parent}",
                hint=f"create {parent} first, or give {flag} a path in an existing directory",
            )
        taken[resolved] = flag


def itf_documents(checked: list[Checked], path: str) -> dict[str, object]:
    """The ITF file of every counterexample: ``path`` itself when there is one, else ``path``
    with ``-SPEC-PROPERTY`` before its suffix for each."""
    docs: list[tuple[str, str, object]] = []
    for item in checked:
        if item.system is None:
            continue
        for v in item.result.violations:
            if v.trace is not None:
                doc = trace_to_itf(v.trace, item.system, item.spec, item.result.variant)
                docs.append((Path(item.spec).stem, v.prop, doc))
    if len(docs) == 1:
        return {path: docs[0][2]}
    base = Path(path)
    stem, suffix = _split_suffix(base.name)
    return {
        str(base.with_name(f"{stem}-{_safe(spec)}-{_safe(prop)}{suffix}")): doc
        for spec, prop, doc in docs
    }


def _split_suffix(name: str) -> tuple[str, str]:
    for suffix in (".itf.json", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def write_file(path: str, text: str) -> None:
    """Write a report or output file; a path that cannot be written is a user mistake."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise KverifyError(f"cannot write {path}: {exc.strerror}") from None


def emit(text: str, out: str | None) -> None:
    """A subcommand's main output: to ``out`` when given, else to standard output."""
    if out is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`kverify ... | head`): drop the rest quietly; the exit
            # code still says what was found.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    else:
        write_file(out, text)


def render_coverage(item: Checked) -> str:
    """The coverage report of one result as text."""
    cov = item.result.coverage
    assert cov is not None
    lines = [
        f"coverage of {item.spec} ({item.result.variant}): {cov.executed} of {cov.statements} "
        f"statements executed" + ("" if cov.complete else " (the search was incomplete)")
    ]
    if cov.unexecuted:
        lines.append("  never executed:")
        lines.extend(f"    {s}" for s in cov.unexecuted)
    if cov.untaken:
        lines.append("  branches never taken:")
        lines.extend(f"    {s}" for s in cov.untaken)
    if cov.vacuous:
        lines.append("  vacuous properties:")
        lines.extend(f"    {name}: {why}" for name, why in cov.vacuous.items())
    return "\n".join(lines) + "\n"


def strict_failures(checked: list[Checked]) -> list[str]:
    """Why ``--strict`` fails: one line per spec with unexecuted code or vacuous properties."""
    out = []
    for item in checked:
        cov: Coverage | None = item.result.coverage
        if cov is None or cov.clean:
            continue
        parts = []
        if cov.unexecuted:
            parts.append(f"{len(cov.unexecuted)} statements never executed")
        if cov.vacuous:
            parts.append("vacuous: " + ", ".join(cov.vacuous))
        out.append(f"{item.spec}: --strict: " + "; ".join(parts))
    return out


def final_exit_code(checked: list[Checked], args: argparse.Namespace) -> int:
    """The exit code of ``check``: the verdict's, or 1 when ``--strict`` finds a problem."""
    from kverify.report import exit_code

    code = exit_code([c.result for c in checked])
    if code == 0 and getattr(args, "strict", False) and strict_failures(checked):
        return 1
    return code


def interrupted(item: Checked) -> bool:
    """Whether the search of ``item`` was stopped with Ctrl-C."""
    return item.result.reason == "interrupted" and item.result.verdict is not Verdict.ERROR
