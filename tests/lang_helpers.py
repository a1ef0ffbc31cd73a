"""Helpers for the language tests: load a spec from text and explore it exhaustively."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kverify.explore.compile import CheckFailed, ModelError, compile_system
from kverify.ir.system import State, TransitionSystem
from kverify.lang import load_spec


def write(tmp_path: Path, text: str, name: str = "t.kvs", **others: str) -> Path:
    """Write a spec (and other files, keyed by relative path) under tmp_path."""
    for rel, body in others.items():
        target = tmp_path / rel.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(
    tmp_path: Path, text: str, variant: str | None = None, **others: str
) -> TransitionSystem:
    return load_spec(str(write(tmp_path, text, **others)), variant)


@dataclass
class Exploration:
    system: TransitionSystem
    states: set[State] = field(default_factory=set)
    terminal: set[State] = field(default_factory=set)  # no enabled step
    failures: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (kind, prop, message)

    def done(self, state: State) -> bool:
        return all(
            p.daemon or state[p.pc_slot] == p.end_pc for p in self.system.processes
        )

    def values(self, *names: str, only_done: bool = True) -> set[tuple[str, ...]]:
        """The shown values of the named variables in every terminal state."""
        out = set()
        for s in self.terminal:
            if only_done and not self.done(s):
                continue
            shown = self.system.layout.describe(s)
            out.add(tuple(shown[n] for n in names))
        return out

    def ints(self, *names: str) -> set[tuple[int, ...]]:
        return {tuple(int(v) for v in row) for row in self.values(*names)}

    def stuck(self) -> set[State]:
        return {s for s in self.terminal if not self.done(s)}


def explore(system: TransitionSystem, limit: int = 200_000) -> Exploration:
    """Every reachable state (DFS, no reduction); failed steps are recorded, not followed."""
    compiled = compile_system(system)
    result = Exploration(system)
    frontier = list(system.initial_states)
    result.states.update(frontier)
    while frontier:
        state = frontier.pop()
        enabled = False
        for _tid, step in compiled.candidates(state):
            try:
                nxt = step(state)
            except ModelError as err:
                result.failures.append(("model-error", err.prop, err.message))
                enabled = True
                continue
            except CheckFailed as err:
                result.failures.append(("check", err.prop, err.message))
                enabled = True
                continue
            if nxt is None:
                continue
            enabled = True
            if nxt not in result.states:
                result.states.add(nxt)
                frontier.append(nxt)
        if not enabled:
            result.terminal.add(state)
        assert len(result.states) < limit, "state space unexpectedly large"
    return result


def run(
    tmp_path: Path, text: str, variant: str | None = None, **others: str
) -> Exploration:
    return explore(load(tmp_path, text, variant, **others))
