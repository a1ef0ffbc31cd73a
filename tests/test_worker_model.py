"""The bundled kthread_worker specs: verdicts per variant, replay of every trace, golden trace.

The expected verdicts are the ones docs/worker.md explains: the reference kthread.c has the
kthread_mod_delayed_work / kthread_cancel_delayed_work_sync race (fixed in Linux 5.13), and
nothing else in these scenarios fails.  The three-caller spec is left to the benchmark and CI
(it has millions of states).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kverify.api import check_system, load_system
from kverify.explore.compile import compile_system
from kverify.result import Verdict
from kverify.trace.cpu import render_cpu
from kverify.trace.replay import replay

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"

RACE = {"canceling_blocks_queueing"}
EXPECTED = {
    ("mod_vs_cancel", "reference"): RACE,
    ("mod_vs_cancel", "v5.13"): set(),
    ("mod_vs_cancel_symptoms", "reference"): {
        "cancel_sync_postcondition", "timer_fn_work_queued", "deadlock",
    },
    ("mod_vs_cancel_symptoms", "v5.13"): set(),
    ("queue_flush_cancel", "reference"): set(),
    ("queue_flush_cancel", "v5.13"): set(),
    ("delayed_callers_2", "reference"): RACE,
    ("delayed_callers_2", "v5.13"): set(),
    ("destroy_worker", "reference"): set(),
    ("destroy_worker", "v5.13"): set(),
}


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], object]:
    out = {}
    for spec, variant in EXPECTED:
        system = load_system(str(SPECS / f"{spec}.kvs"), variant)
        out[(spec, variant)] = (system, check_system(system))
    return out


@pytest.mark.parametrize(("spec", "variant"), sorted(EXPECTED))
def test_verdicts(results, spec: str, variant: str) -> None:
    _, result = results[(spec, variant)]
    assert set(result.violated) == EXPECTED[(spec, variant)]
    expected = Verdict.VIOLATED if EXPECTED[(spec, variant)] else Verdict.HOLDS
    assert result.verdict == expected
    assert result.stats.states > 100  # a real exploration, not an empty model


@pytest.mark.parametrize(("spec", "variant"), sorted(k for k, v in EXPECTED.items() if v))
def test_every_trace_replays(results, spec: str, variant: str) -> None:
    system, result = results[(spec, variant)]
    compiled = compile_system(system)
    for violation in result.violations:
        assert violation.trace is not None
        replay(system, compiled, violation.trace)


def test_race_trace_shows_the_rearm_while_canceling(results) -> None:
    _, result = results[("mod_vs_cancel", "reference")]
    trace = result.violations[0].trace
    kernel_lines = [s.kernel.line for s in trace.steps if s.kernel]
    # mod_delayed_work drops the lock in __kthread_cancel_work (1009) and the cancel raises
    # canceling (1008) in between; mod then retakes the lock (1011) and reaches fast_queue.
    assert 1009 in kernel_lines and 1011 in kernel_lines and 1089 in kernel_lines
    processes = {s.process for s in trace.steps}
    assert {"cpu0", "cpu1"} <= processes
    assert trace.steps[-1].process == "cpu0"
    assert trace.violation is not None and trace.violation.prop == "canceling_blocks_queueing"


def test_race_needs_the_interleaving() -> None:
    """With the callers run one after the other (no interleaving), the reference holds: the
    violation is a race, not a sequential bug of the model."""
    spec = SPECS / "mod_vs_cancel.kvs"
    text = spec.read_text().replace(
        "process cpu0 { kthread_mod_delayed_work(&worker, &dw, 1); }\n"
        "process cpu1 { kthread_cancel_delayed_work_sync(&dw); }",
        "process cpu0 { kthread_mod_delayed_work(&worker, &dw, 1); "
        "kthread_cancel_delayed_work_sync(&dw); }",
    )
    assert text != spec.read_text()
    sequential = SPECS / "_sequential_tmp.kvs"
    try:
        sequential.write_text(text)
        result = check_system(load_system(str(sequential)))
    finally:
        sequential.unlink()
    assert result.verdict == Verdict.HOLDS


def test_golden_cpu_trace(results) -> None:
    _, result = results[("mod_vs_cancel", "reference")]
    rendered = render_cpu(result.violations[0].trace)
    golden = GOLDEN / "mod_vs_cancel.cpu.txt"
    if os.environ.get("KVERIFY_UPDATE_GOLDEN"):  # regenerate, then review the diff
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), "run with KVERIFY_UPDATE_GOLDEN=1 to create the golden file"
    assert rendered == golden.read_text()


def test_ignore_names_a_real_property(tmp_path: Path) -> None:
    from kverify.errors import KverifyError

    spec = tmp_path / "s.kvs"
    text = (SPECS / "mod_vs_cancel_symptoms.kvs").read_text()
    text = text.replace('use "../models/', f'use "{ROOT}/models/').replace(
        "ignore canceling_blocks_queueing;", "ignore canceling_blocks_queuing;"
    )
    spec.write_text(text)
    with pytest.raises(KverifyError) as err:
        load_system(str(spec))
    assert "no assert or WARN named 'canceling_blocks_queuing'" in err.value.render()
    assert ":9:1:" in err.value.render()
