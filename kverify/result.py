"""What every engine returns: a verdict, statistics, per-property verdicts and violations.

These are plain data.  Engines build them; the command line and the Python API read them; the
renderers in :mod:`kverify.trace` turn their traces into text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kverify.ir.system import TransitionSystem
from kverify.trace.data import trace_to_json
from kverify.trace.model import Trace


class Verdict(str, Enum):
    """The outcome of a check, for one property or for a whole spec."""

    HOLDS = "holds"
    VIOLATED = "violated"
    INCOMPLETE = "incomplete"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Stats:
    """Search statistics.  ``extra`` holds engine-specific numbers (queue length, reduction)."""

    states: int = 0
    transitions: int = 0
    max_depth: int = 0
    seconds: float = 0.0
    bytes_per_state: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def states_per_second(self) -> float:
        """Stored states per second of search (0 when no time was measured)."""
        return self.states / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Statement:
    """A model statement (one source line) and the labels of its steps that never ran."""

    file: str
    line: int
    labels: tuple[str, ...]
    kernel: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        kernel = f" ({self.kernel})" if self.kernel else ""
        return f"{where}: {' | '.join(self.labels)}{kernel}"


@dataclass(frozen=True)
class Coverage:
    """What a search exercised.

    ``statements`` counts the model lines that have steps in this scenario and ``executed``
    those with a step that ran in some explored state; ``unexecuted`` lists the others and
    ``untaken`` the executed lines with a branch that never ran.  ``vacuous`` maps each property
    that was never exercised to the reason: an assert or warn_on never reached, or an
    ``invariant`` / ``final`` whose premise (the negated disjuncts of ``!p || q``) held in no
    state it is checked in.
    """

    statements: int
    executed: int
    unexecuted: tuple[Statement, ...] = ()
    untaken: tuple[Statement, ...] = ()
    vacuous: dict[str, str] = field(default_factory=dict)
    complete: bool = True

    @property
    def clean(self) -> bool:
        """No statement left unexecuted and no property vacuous."""
        return not self.unexecuted and not self.vacuous

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "statements": self.statements,
            "executed": self.executed,
            "unexecuted": [_statement_json(s) for s in self.unexecuted],
            "untaken_branches": [_statement_json(s) for s in self.untaken],
            "vacuous": dict(self.vacuous),
            "complete": self.complete,
        }


def _statement_json(s: Statement) -> dict[str, Any]:
    return {"file": s.file, "line": s.line, "statements": list(s.labels), "kernel": s.kernel or None}


@dataclass(frozen=True)
class Violation:
    """A property that failed, how (``kind``), a message, and the counterexample."""

    prop: str
    kind: str
    message: str
    trace: Trace | None = None


@dataclass(frozen=True)
class Result:
    """The outcome of checking one spec variant.

    ``properties`` gives each property's verdict in declaration order; ``violations`` lists the
    first violation of each violated property in the order they were found; ``reason`` says why
    an incomplete search stopped (e.g. ``"max-states limit 1000 reached"``).
    """

    spec: str
    variant: str
    verdict: Verdict
    stats: Stats = field(default_factory=Stats)
    properties: dict[str, Verdict] = field(default_factory=dict)
    violations: tuple[Violation, ...] = ()
    reason: str = ""
    notes: tuple[str, ...] = ()
    engine: str = "explicit-bfs"
    coverage: Coverage | None = None

    @classmethod
    def error(cls, spec: str, variant: str, message: str) -> Result:
        """A result for a spec that could not be checked (a model or usage error)."""
        return cls(
            spec=spec, variant=variant, verdict=Verdict.ERROR, reason=message, engine=""
        )

    @property
    def violated(self) -> list[str]:
        """Names of the violated properties, in discovery order (a counterexample to
        induction, kind ``cti``, does not make its property violated)."""
        return [v.prop for v in self.violations if v.kind != "cti"]

    @property
    def trace(self) -> Trace | None:
        """The first violation's trace, if any."""
        return self.violations[0].trace if self.violations else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stable keys: spec, variant, verdict, states, transitions,
        seconds, properties, violated, trace)."""
        first = self.trace
        return {
            "spec": self.spec,
            "variant": self.variant,
            "verdict": self.verdict.value,
            "engine": self.engine,
            "states": self.stats.states,
            "transitions": self.stats.transitions,
            "depth": self.stats.max_depth,
            "seconds": round(self.stats.seconds, 6),
            "states_per_second": round(self.stats.states_per_second, 1),
            "bytes_per_state": round(self.stats.bytes_per_state, 1),
            "properties": {name: v.value for name, v in self.properties.items()},
            "violated": self.violated,
            "reason": self.reason or None,
            "limit": self.reason if self.verdict is Verdict.INCOMPLETE else None,
            "notes": list(self.notes),
            "trace": trace_to_json(first) if first is not None else None,
            "violations": [_violation_json(v) for v in self.violations],
            **({"coverage": self.coverage.to_json()} if self.coverage is not None else {}),
            **({"por": self.stats.extra["por"]} if "por" in self.stats.extra else {}),
        }


def _violation_json(v: Violation) -> dict[str, Any]:
    return {
        "property": v.prop,
        "kind": v.kind,
        "message": v.message,
        "trace": trace_to_json(v.trace) if v.trace is not None else None,
    }


@dataclass(frozen=True)
class Checked:
    """One checked spec: the path it was given as, its result, and the transition system it
    was checked on (None when the spec did not load).  Exporters that show states or property
    locations need the system; the rest read the result alone."""

    spec: str
    result: Result
    system: TransitionSystem | None = None
