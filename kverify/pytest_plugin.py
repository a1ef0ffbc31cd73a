"""A pytest plugin: spec files run as test items, one per property and variant.

``pytest specs/`` (with the plugin enabled: installed, it is registered as ``kverify``; or
``-p kverify.pytest_plugin``) collects every ``*.kvs`` file inside a directory named ``specs``
(``kverify_spec_dirs`` in the ini file changes the names).  Each spec is checked once per
variant; each property is one item, which fails with the counterexample in kernel CPU columns,
and is skipped when a limit left it open.

Options: ``--kverify-variant NAME`` (repeatable; ini ``kverify_variants``, default
``reference``) and ``--kverify-max-states N``.  The search is the full breadth-first one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kverify import api
from kverify.errors import KverifyError
from kverify.ir.system import TransitionSystem
from kverify.result import Result, Verdict, Violation
from kverify.trace.cpu import render_cpu


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the plugin's command-line and ini options."""
    group = parser.getgroup("kverify", "kverify spec files")
    group.addoption(
        "--kverify-variant",
        action="append",
        default=None,
        metavar="NAME",
        help="model variant to check every spec in (repeatable; default: reference)",
    )
    group.addoption(
        "--kverify-max-states", type=int, default=None, metavar="N", help="state limit per spec"
    )
    parser.addini("kverify_variants", "variants to check each spec in", type="args", default=[])
    parser.addini(
        "kverify_spec_dirs",
        "names of the directories whose *.kvs files are collected",
        type="args",
        default=["specs"],
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``*.kvs`` files that sit in a spec directory."""
    if file_path.suffix != ".kvs":
        return None
    if file_path.parent.name not in parent.config.getini("kverify_spec_dirs"):
        return None
    spec: SpecFile = SpecFile.from_parent(parent, path=file_path)
    return spec


def _variants(config: pytest.Config) -> list[str]:
    chosen = config.getoption("kverify_variant") or config.getini("kverify_variants")
    return list(chosen) or ["reference"]


class SpecFile(pytest.File):
    """A spec file: one item per (variant, property); the check runs once per variant."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results: dict[str, Result] = {}
        self.systems: dict[str, TransitionSystem] = {}

    def collect(self) -> Iterator[pytest.Item]:
        try:
            has = {name for name, _ in api.variants(str(self.path))}
        except KverifyError:
            has = None  # the load below reports the error
        for variant in _variants(self.config):
            if has is not None and variant not in has:
                # a specs/ directory holds specs of several models, each with its own variants
                yield SkipItem.from_parent(
                    self, name=f"load[{variant}]", reason=f"its model has no variant {variant!r}"
                )
                continue
            try:
                system = api.load_system(str(self.path), None if variant == "reference" else variant)
            except KverifyError as exc:
                yield LoadItem.from_parent(self, name=f"load[{variant}]", error=exc)
                continue
            self.systems[variant] = system
            for prop in system.properties:
                yield PropertyItem.from_parent(
                    self, name=f"{prop.name}[{variant}]", variant=variant, prop=prop.name
                )

    def result(self, variant: str) -> Result:
        """The result of checking this spec in ``variant`` (checked on first use)."""
        if variant not in self.results:
            self.results[variant] = api.check_system(
                self.systems[variant],
                max_states=self.config.getoption("kverify_max_states"),
            )
        return self.results[variant]


class SpecViolation(Exception):
    """A property of a spec is violated; carries the violation to render."""

    def __init__(self, spec: str, variant: str, violation: Violation) -> None:
        super().__init__(violation.message)
        self.spec = spec
        self.variant = variant
        self.violation = violation


class PropertyItem(pytest.Item):
    """One property of one spec variant."""

    def __init__(self, *, variant: str, prop: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.variant = variant
        self.prop = prop

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, SpecFile)
        result = parent.result(self.variant)
        verdict = result.properties.get(self.prop, Verdict.HOLDS)
        if verdict is Verdict.VIOLATED:
            violation = next(v for v in result.violations if v.prop == self.prop)
            raise SpecViolation(str(self.path), self.variant, violation)
        if verdict is Verdict.INCOMPLETE:
            pytest.skip(f"search stopped: {result.reason}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        exc = excinfo.value
        if not isinstance(exc, SpecViolation):
            return str(super().repr_failure(excinfo))
        v = exc.violation
        head = f"{exc.spec} ({exc.variant}): {v.prop} ({v.kind}) violated: {v.message}\n\n"
        return head + (render_cpu(v.trace) if v.trace is not None else "")

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"kverify {self.path.name}: {self.prop} [{self.variant}]"


class SkipItem(pytest.Item):
    """A variant the spec's model does not have: skipped, with the reason."""

    def __init__(self, *, reason: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reason = reason

    def runtest(self) -> None:
        pytest.skip(f"{self.path.name}: {self.reason}")

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"kverify {self.path.name}: {self.reason}"


class LoadItem(pytest.Item):
    """A spec variant that does not load: fails with the compiler-style error."""

    def __init__(self, *, error: KverifyError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return self.error.render()

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"kverify {self.path.name}: load"
