"""Liveness under fairness: the fair-SCC search against a brute-force reference on small random
graphs, the lasso cycles it builds, the bundled liveness specs, and the command line."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kverify.api import check_system, load_system
from kverify.cli import main
from kverify.explore.compile import compile_system
from kverify.explore.liveness import Graph, _fair_cycle, fair_sccs, tarjan
from kverify.ir.system import Fairness
from kverify.result import Verdict
from kverify.trace.replay import replay

SPECS = Path(__file__).resolve().parent.parent / "specs"
PIDS = 3


# --------------------------------------------------------------------------- random graphs


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 6))
    succ = []
    enabled = []
    for _ in range(n):
        edge = st.tuples(st.integers(0, PIDS - 1), st.integers(0, n - 1))
        edges = draw(st.lists(edge, max_size=4, unique=True))
        succ.append([(pid, w) for pid, w in edges])  # transition id == pid
        extra = draw(st.integers(0, (1 << PIDS) - 1)) if draw(st.booleans()) else 0
        enabled.append(extra | sum(1 << pid for pid, _ in edges))
    fairness = tuple(
        Fairness(kind, pid)
        for pid in range(PIDS)
        if (kind := draw(st.sampled_from(["none", "weak", "strong"]))) != "none"
    )
    g = Graph(states=[(k,) for k in range(n)], succ=succ, enabled=enabled,
              terminal=[not e for e in succ], initial=[0])
    return g, fairness


def _strongly_connected(g: Graph, nodes: set[int]) -> bool:
    if len(nodes) == 1:
        v = next(iter(nodes))
        return any(w == v for _, w in g.succ[v])
    for start in nodes:
        seen = {start}
        todo = [start]
        while todo:
            v = todo.pop()
            for _, w in g.succ[v]:
                if w in nodes and w not in seen:
                    seen.add(w)
                    todo.append(w)
        if seen != nodes:
            return False
    return True


def naive_fair_cycle(g: Graph, fairness: tuple[Fairness, ...]) -> bool:
    """A fair cycle exists iff some set S of states induces a strongly connected, non-trivial
    subgraph (a closed walk can then use every edge inside S) that meets every condition."""
    n = len(g.states)
    for size in range(1, n + 1):
        for subset in combinations(range(n), size):
            s = set(subset)
            if not _strongly_connected(g, s):
                continue
            taken = {pid for v in s for pid, w in g.succ[v] if w in s}
            ok = True
            for f in fairness:
                if f.pid in taken:
                    continue
                disabled = [not g.enabled[v] >> f.pid & 1 for v in s]
                if (f.kind == "weak" and not any(disabled)) or (f.kind == "strong" and not all(disabled)):
                    ok = False
            if ok:
                return True
    return False


def _cycle_is_fair(
    g: Graph, entry: int, cycle: list[tuple[int, int]], fairness: tuple[Fairness, ...]
) -> bool:
    states = [entry] + [w for _, w in cycle]
    if not cycle or states[-1] != entry:
        return False
    for (tid, w), v in zip(cycle, states):
        if (tid, w) not in g.succ[v]:
            return False
    taken = {tid for tid, _ in cycle}
    for f in fairness:
        if f.pid in taken:
            continue
        disabled = [not g.enabled[v] >> f.pid & 1 for v in states]
        if (f.kind == "weak" and not any(disabled)) or (f.kind == "strong" and not all(disabled)):
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(graphs())
def test_fair_scc_agrees_with_brute_force(case) -> None:
    g, fairness = case
    nodes = set(range(len(g.states)))
    found = fair_sccs(nodes, g, list(range(PIDS)), fairness)
    assert bool(found) == naive_fair_cycle(g, fairness)
    for comp in found:  # every component found yields a fair cycle through its entry
        entry = min(comp)
        cycle = _fair_cycle(g, comp, entry, list(range(PIDS)), fairness)
        assert all(w in comp for _, w in cycle)
        assert _cycle_is_fair(g, entry, cycle, fairness)


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_without_fairness_any_cycle_counts(case) -> None:
    g, _ = case
    nodes = set(range(len(g.states)))
    assert bool(fair_sccs(nodes, g, list(range(PIDS)), ())) == naive_fair_cycle(g, ())


def test_tarjan_is_iterative_on_long_chains() -> None:
    n = 20_000  # far past the recursion limit
    succ = [[(0, k + 1)] for k in range(n - 1)] + [[(0, 0)]]
    comps = tarjan(set(range(n)), succ)
    assert len(comps) == 1 and len(comps[0]) == n


# --------------------------------------------------------------------------- small specs


def _spec(tmp_path: Path, text: str) -> str:
    path = tmp_path / "toy.kvs"
    path.write_text(text)
    return str(path)


TOY = """
spec "toy";
bool flag;
bool x;
process a { flag = true; }
process b { await flag; }
daemon process spin { for (;;) { x = !x; } }
FAIR
property b_returns: eventually returned(b);
property flag_leads_to_b: flag ~> returned(b);
property spin_flips: always eventually x;
property never_both: always !(flag && x && returned(b));
"""


def test_toy_spec_fairness_and_lassos(tmp_path: Path) -> None:
    fair = load_system(_spec(tmp_path, TOY.replace("FAIR", "fair weak;")))
    result = check_system(fair)
    assert result.properties["b_returns"] is Verdict.HOLDS
    assert result.properties["flag_leads_to_b"] is Verdict.HOLDS
    assert result.properties["spin_flips"] is Verdict.HOLDS
    assert result.properties["never_both"] is Verdict.VIOLATED
    unfair = check_system(fair, fairness=False)
    assert unfair.properties["b_returns"] is Verdict.VIOLATED
    assert unfair.properties["flag_leads_to_b"] is Verdict.VIOLATED
    compiled = compile_system(fair)
    for v in unfair.violations:
        assert v.trace is not None and v.trace.loop is not None
        replay(fair, compiled, v.trace)
        if v.prop == "b_returns":  # the spinner starves a: only spin moves in the cycle
            assert {s.process for s in v.trace.steps[v.trace.loop :]} == {"spin"}
            assert "a at `flag = true` (enabled all along, never scheduled)" in v.message
    # weak fairness on the spinner alone does not help a and b
    only_spin = load_system(_spec(tmp_path, TOY.replace("FAIR", "fair weak spin;")))
    assert check_system(only_spin).properties["b_returns"] is Verdict.VIOLATED


def test_strong_fairness_beats_weak_on_a_contended_flag(tmp_path: Path) -> None:
    text = """
spec "contended";
bool busy;
daemon process hog { for (;;) { busy = true; busy = false; } }
process waiter { await !busy; }
FAIR
property waiter_returns: eventually returned(waiter);
"""
    weak = load_system(_spec(tmp_path, text.replace("FAIR", "fair weak;")))
    strong = load_system(_spec(tmp_path, text.replace("FAIR", "fair weak; fair strong waiter;")))
    assert check_system(weak).properties["waiter_returns"] is Verdict.VIOLATED
    assert check_system(strong).properties["waiter_returns"] is Verdict.HOLDS


def test_bad_fairness_and_returned_are_reported(tmp_path: Path) -> None:
    from kverify.errors import KverifyError

    with pytest.raises(KverifyError, match="weak or strong"):
        load_system(_spec(tmp_path, 'spec "x"; process a { ; } fair sometimes;'))
    with pytest.raises(KverifyError, match="no process named"):
        load_system(_spec(tmp_path, 'spec "x"; process a { ; } fair weak b;'))
    with pytest.raises(KverifyError, match="name of a process"):
        load_system(_spec(tmp_path, 'spec "x"; process a { ; } property p: eventually returned(c);'))


# --------------------------------------------------------------------------- bundled specs

EXPECTED = {
    ("liveness_worker", "reference", True): set(),
    ("liveness_worker", "v5.13", True): set(),
    ("liveness_worker", "reference", False): {"queue_work_returns", "flush_work_returns", "queued_work_runs"},
    ("liveness_worker_wakeup", "reference", True): set(),
    ("liveness_worker_wakeup", "v5.13", True): set(),
    ("liveness_worker_wakeup", "lost_wakeup", True): {"queued_work_runs", "worker_not_left_asleep"},
    ("liveness_mod_cancel", "reference", True): {"cancel_delayed_work_sync_returns"},
    ("liveness_mod_cancel", "v5.13", True): set(),
    ("liveness_kthread_park", "reference", True): set(),
    ("liveness_kthread_park", "v6.12", True): set(),
    ("liveness_kthread_park", "reference", False): {
        "park_returns", "unpark_returns", "stop_returns", "unpark_leaves_parked",
    },
    ("liveness_kthread_park", "lost_parked_complete", True): {
        "park_returns", "unpark_returns", "stop_returns",
    },
    ("liveness_kthread_stop_parked", "reference", True): set(),
}


@pytest.mark.parametrize(("spec", "variant", "fair"), sorted(EXPECTED))
def test_bundled_liveness_verdicts(spec: str, variant: str, fair: bool) -> None:
    system = load_system(str(SPECS / f"{spec}.kvs"), variant)
    result = check_system(system, fairness=fair)
    liveness = {p.name for p in system.properties if p.kind == "liveness"}
    violated = {v.prop for v in result.violations if v.kind == "liveness"}
    assert violated == EXPECTED[(spec, variant, fair)]
    assert liveness - violated == {n for n in liveness if result.properties[n] is Verdict.HOLDS}
    assert any("checked on the full state graph, without partial-order reduction" in n for n in result.notes)
    compiled = compile_system(system)
    for v in result.violations:
        if v.kind == "liveness":
            assert v.trace is not None and v.trace.loop is not None
            replay(system, compiled, v.trace)


def test_mod_cancel_hang_is_a_terminal_lasso() -> None:
    system = load_system(str(SPECS / "liveness_mod_cancel.kvs"))
    result = check_system(system)
    (v,) = [v for v in result.violations if v.prop == "cancel_delayed_work_sync_returns"]
    assert v.trace is not None and v.trace.loop == len(v.trace.steps)
    assert "cpu1 at `wait_for_completion(&fwork.done)` (blocked)" in v.message


def test_lost_parked_complete_lasso_shows_the_sleeper_and_the_cycle() -> None:
    system = load_system(str(SPECS / "liveness_kthread_park.kvs"), "lost_parked_complete")
    result = check_system(system)
    v = next(v for v in result.violations if v.prop == "park_returns")
    assert v.trace is not None and v.trace.loop is not None and v.trace.loop < len(v.trace.steps)
    assert "cpu0 at `wait_for_completion(&kthread->parked)` (blocked)" in v.message
    assert re.search(r"repeats? for ever", v.message)


def test_cli_no_fairness_json_has_a_loop(capsys) -> None:
    spec = str(SPECS / "liveness_worker.kvs")
    assert main(["check", spec]) == 0
    capsys.readouterr()
    assert main(["check", spec, "--no-fairness", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    if isinstance(doc, list):
        doc = doc[0]
    assert doc["trace"]["loop"] is not None
    assert "liveness: no fairness assumed (--no-fairness)" in doc["notes"]
    assert main(["check", spec, "--no-fairness", "--format", "cpu"]) == 1
    assert re.search(r"repeats? for ever", capsys.readouterr().out)
