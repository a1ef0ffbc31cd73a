"""``prove --pdr`` agrees with the explicit search, with and without the explicit sample that
guides it: it proves a system exactly when the search finds no violation, its invariant passes
an independent certificate check, and every counterexample it returns replays on the explicit
engine.  Houdini keeps only inductive clauses, strengthening only clauses true in the sample,
whatever the sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from ir_builder import deep_invariant, locked_counter
from test_random_systems import systems
from test_smt_bmc import EXAMPLES

from kverify.api import load_system
from kverify.cli import main
from kverify.explore.compile import compile_system
from kverify.explore.search import search
from kverify.ir.system import TransitionSystem
from kverify.result import Verdict
from kverify.smt import ProveOptions, prove_system
from kverify.smt.houdini import StateSet, candidates, houdini, sample_states, strengthen
from kverify.smt.ic3 import ic3
from kverify.smt.invariant import check_certificate, holds_in, invariant_lines, negated_cube
from kverify.smt.relation import SymbolicSystem
from kverify.trace.replay import replay

SPECS = Path(__file__).resolve().parent.parent / "specs"


def agree(system: TransitionSystem, sample: int) -> None:
    """The verdict is the explicit search's; a proof's invariant is a certificate (checked
    inside prove_system); a counterexample is a run of the explicit engine that violates a
    property BFS also finds."""
    compiled = compile_system(system)
    explicit = search(compiled)
    violated = {v.prop for v in explicit.violations}
    result = prove_system(system, ProveOptions(mode="pdr", timeout=120, sample=sample))
    if not violated:
        assert result.verdict is Verdict.HOLDS
        assert result.stats.extra["invariant"]  # printed, and checked by prove_system
        return
    assert result.verdict is Verdict.VIOLATED
    assert set(result.violated) <= violated
    trace = result.trace
    assert trace is not None
    replay(system, compiled, trace)


SAMPLES = {"ic3-alone": 0, "sampled": 100_000, "partly-sampled": 3}


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
@pytest.mark.parametrize("make", EXAMPLES, ids=lambda f: f.__name__)
def test_pdr_matches_the_explicit_search_on_examples(make, sample):
    agree(make(), sample)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems())
def test_ic3_alone_matches_the_explicit_search_on_random_systems(system):
    agree(system, sample=0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems())
def test_sampled_pdr_matches_the_explicit_search_on_random_systems(system):
    agree(system, sample=100_000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems())
def test_houdini_keeps_an_inductive_subset_even_from_a_partial_sample(system):
    sym = SymbolicSystem(system, bits=True)
    partial = sample_states(compile_system(system), 4).states
    mined = candidates(sym, partial)
    kept, _ = houdini(sym, mined)
    assert set(kept) <= set(mined)
    assert check_certificate(sym, kept) in {"", "safety"}  # initiation and consecution hold


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems())
def test_strengthening_adds_only_clauses_true_in_every_reachable_state(system):
    sym = SymbolicSystem(system, bits=True)
    sample = sample_states(compile_system(system), 100_000)
    added = strengthen(sym, (), sample)
    if sample.result.violations:  # some bad state is reachable: nothing can exclude it
        assert added is None
        return
    assert sample.complete and added is not None
    assert all(holds_in(c, s) for c in added for s in sample.states)
    assert check_certificate(sym, added) == ""


def test_state_set_shrinks_a_cube_as_the_one_by_one_greedy_does():
    states = [(0, 1, 2, 3), (0, 1, 5, 3), (4, 1, 2, 0), (0, 0, 2, 3)]
    members = StateSet(states)

    def held(lit):
        return sum(s[lit[0]] == lit[1] for s in states)

    for cube in [((0, 0), (1, 1), (2, 2), (3, 0)), ((0, 4), (1, 0), (2, 5), (3, 3)), ((0, 9),)]:
        assert not members.meets(cube)
        small = cube
        for lit in sorted(cube, key=lambda x: (held(x), x)):  # the obvious quadratic greedy
            trial = tuple(x for x in small if x != lit)
            if trial and not any(all(s[i] == v for i, v in trial) for s in states):
                small = trial
        assert members.shrink(cube) == small
        assert not members.meets(small)
    assert members.meets(((0, 0), (3, 3))) and not members.meets(((0, 4), (3, 3)))


TWO_STARTS = """
int<0..1> c; int<0..1> a;
init { either { a = 0; } or { a = 1; } }
daemon process cpu0 { await a == 0; c = 1; }
invariant not_both: !(c == 1 && a == 1);
"""


@pytest.mark.parametrize("sample", [0, 1, 2, 100_000])
def test_a_sample_smaller_than_the_initial_states_still_proves(tmp_path, sample):
    spec = tmp_path / "two_starts.kvs"
    spec.write_text(TWO_STARTS)
    result = prove_system(load_system(str(spec)), ProveOptions(mode="pdr", sample=sample, timeout=60))
    assert result.verdict is Verdict.HOLDS


def test_the_invariant_of_the_locked_counter_is_an_independent_certificate():
    system = locked_counter()
    sym = SymbolicSystem(system, bits=True)
    out = ic3(sym, timeout=60)
    assert out.status == "proved"
    lemmas = [negated_cube(c) for c in out.lemmas]
    assert check_certificate(sym, lemmas) == ""
    lines = invariant_lines(system, lemmas)
    assert len(lines) == len(lemmas) and any("cpu0.pc" in line for line in lines)
    # The certificate check is not a rubber stamp: with no lemma the bad states are not
    # excluded, and a lemma excluding an initial state fails initiation.
    assert check_certificate(sym, ()) == "safety"
    start = system.initial_states[0]
    assert check_certificate(sym, [*lemmas, negated_cube(enumerate(start))]) == "initiation"


@pytest.mark.parametrize("sample", [0, 100_000])
def test_a_pdr_counterexample_is_a_replayable_trace(sample):
    system = deep_invariant(limit=3, top=6)
    result = prove_system(system, ProveOptions(mode="pdr", timeout=60, sample=sample))
    assert result.verdict is Verdict.VIOLATED
    assert result.trace is not None and len(result.trace) >= 3
    replay(system, compile_system(system), result.trace)


@pytest.mark.parametrize("sample", [0, 100_000])
def test_a_zero_time_limit_is_incomplete_not_a_verdict(sample):
    result = prove_system(locked_counter(), ProveOptions(mode="pdr", timeout=0.0, sample=sample))
    assert result.verdict is Verdict.INCOMPLETE
    assert "time limit" in result.reason


def test_spacer_is_still_reachable_by_name():
    result = prove_system(locked_counter(), ProveOptions(mode="pdr", timeout=60, engine="spacer"))
    assert result.verdict is Verdict.HOLDS
    assert result.stats.extra.get("engine") != "ic3"


def test_pdr_proves_destroy_worker_and_the_cli_prints_its_invariant(capsys):
    assert main(["prove", str(SPECS / "destroy_worker.kvs"), "--pdr", "--timeout", "300"]) == 0
    out = capsys.readouterr().out
    assert "inductive invariant found by Houdini and strengthening" in out


def test_pdr_finds_the_mod_cancel_race_and_the_trace_replays():
    system = load_system(str(SPECS / "mod_vs_cancel.kvs"))
    result = prove_system(system, ProveOptions(mode="pdr", timeout=300))
    assert result.verdict is Verdict.VIOLATED
    assert result.violated == ["canceling_blocks_queueing"]
    assert result.trace is not None
    replay(system, compile_system(system), result.trace)


def test_pdr_proves_the_v5_13_worker_safety_properties_with_a_checked_invariant():
    """The fixed mod_delayed_work / cancel_delayed_work_sync protocol: every safety property
    proved for all reachable states (the invariant passed the certificate check inside
    prove_system), agreeing with the explicit search."""
    system = load_system(str(SPECS / "mod_vs_cancel.kvs"), "v5.13")
    result = prove_system(system, ProveOptions(mode="pdr", timeout=900))
    assert result.verdict is Verdict.HOLDS
    assert all(v is Verdict.HOLDS for v in result.properties.values())
    invariant = result.stats.extra["invariant"]
    assert isinstance(invariant, list) and any("canceling" in line for line in invariant)
    assert search(compile_system(system)).verdict is Verdict.HOLDS


@pytest.mark.parametrize("flags", [["--bmc", "1"], ["--pdr", "--pdr-engine", "spacer"]])
def test_sample_without_the_ic3_engine_is_a_usage_error(flags, capsys):
    assert main(["prove", str(SPECS / "destroy_worker.kvs"), "--sample", "5", *flags]) == 2
    assert "--sample guides only the IC3 engine" in capsys.readouterr().err
