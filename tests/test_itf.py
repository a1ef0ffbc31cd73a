"""ITF output and `kverify replay`: the bundled mod_delayed_work bug, written and replayed."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from kverify_run import SPEC, at_root, run

from kverify import api
from kverify.explore.compile import compile_system
from kverify.trace.itf import decode_itf, itf_to_trace, trace_to_itf
from kverify.trace.replay import ReplayError, reproduce


@pytest.fixture(scope="module")
def itf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("itf") / "bug.itf.json"
    proc = run("check", SPEC, "--itf", str(path))
    assert proc.returncode == 1, proc.stderr
    return path


def _edit(doc: dict, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_itf_document_shape(itf_file: Path) -> None:
    doc = json.loads(itf_file.read_text())
    meta = doc["#meta"]
    assert meta["format"] == "ITF" and meta["spec"] == SPEC and meta["variant"] == "reference"
    assert meta["violation"]["property"] == "canceling_blocks_queueing"
    assert len(meta["tids"]) == len(doc["states"]) - 1
    assert "loop" not in doc  # a finite trace
    first = doc["states"][0]
    assert first["#meta"] == {"index": 0}
    assert set(doc["vars"]) <= set(first)
    assert first["dw.work.canceling"] == {"#bigint": "0"}
    assert first["dw.timer.pending"] is True
    assert first["worker.delayed_work_list"] == ["&dw.work"]
    assert first["worker.lock.owner"] == "null"
    last = doc["states"][-1]["#meta"]
    assert last["partial"] is True and last["kernel"].endswith("kthread.c:1072")


def test_itf_round_trip_is_exact() -> None:
    checked = api.check_spec(SPEC)
    trace = checked.result.trace
    assert trace is not None and checked.system is not None
    doc = json.loads(json.dumps(trace_to_itf(trace, checked.system, SPEC)))
    again = itf_to_trace(doc, checked.system)
    assert again.initial == trace.initial
    assert [(s.tid, s.state, s.partial) for s in again.steps] == [
        (s.tid, s.state, s.partial) for s in trace.steps
    ]
    assert decode_itf(doc, checked.system.layout).states[0] == trace.initial


def test_replay_reproduces_the_violation(itf_file: Path) -> None:
    proc = run("replay", str(itf_file))
    assert proc.returncode == 1, proc.stderr
    assert "reproduces canceling_blocks_queueing" in proc.stdout
    assert "kthread_mod_delayed_work()" in proc.stdout  # the CPU columns


def test_edited_value_diverges_at_that_step(itf_file: Path, tmp_path: Path) -> None:
    doc = json.loads(itf_file.read_text())
    step = next(k for k, s in enumerate(doc["states"]) if s["dw.work.canceling"] == {"#bigint": "1"})
    edited = copy.deepcopy(doc)
    for state in edited["states"][step:]:
        state["dw.work.canceling"] = {"#bigint": "0"}
    proc = run("replay", str(_edit(edited, tmp_path, "value.json")))
    assert proc.returncode == 2
    assert f"diverges at step {step}" in proc.stderr
    assert "dw.work.canceling: trace 0, model 1" in proc.stderr


def test_edited_schedule_diverges_at_that_step(itf_file: Path, tmp_path: Path) -> None:
    doc = json.loads(itf_file.read_text())
    edited = copy.deepcopy(doc)
    # give step 3 the transition of the last step: that process is not there yet
    edited["states"][3]["#meta"]["tid"] = doc["states"][-1]["#meta"]["tid"]
    proc = run("replay", str(_edit(edited, tmp_path, "tid.json")))
    assert proc.returncode == 2
    assert "diverges at step 3" in proc.stderr


def test_trace_without_its_last_step_replays_clean(itf_file: Path, tmp_path: Path) -> None:
    doc = json.loads(itf_file.read_text())
    doc["states"] = doc["states"][:-1]
    doc["#meta"]["tids"] = doc["#meta"]["tids"][:-1]
    proc = run("replay", str(_edit(doc, tmp_path, "short.json")))
    assert proc.returncode == 0, proc.stderr
    assert "no violation" in proc.stdout


def test_replay_on_the_fixed_variant_does_not_fit(itf_file: Path) -> None:
    """v5.13 has other function locals than the reference: the layouts differ, and the error
    says so and names the variant the trace was recorded on, instead of a divergence."""
    proc = run("replay", str(itf_file), "--variant", "v5.13")
    assert proc.returncode == 2 and "reproduces" not in proc.stdout
    assert "recorded on another state layout" in proc.stderr
    assert "(recorded on variant reference, replayed on v5.13)" in proc.stderr
    assert "hint: replay it on its own variant: --variant reference" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_replay_on_a_variant_with_the_same_layout_names_both_variants(itf_file: Path) -> None:
    """lost_wakeup keeps the reference's variables but not its steps: the trace diverges, and
    the message says it was recorded on another variant."""
    from kverify.trace.itf import itf_vars, layout_difference

    doc = json.loads(itf_file.read_text())
    system = api.load_system(SPEC, "lost_wakeup")
    assert layout_difference(doc, system.layout).startswith("the trace was recorded on another")
    doc["vars"] = [v.name for v in itf_vars(system.layout)]  # only the variables it has
    assert layout_difference(doc, system.layout) == ""
    path = itf_file.parent / "same-layout.json"
    path.write_text(json.dumps(doc))
    proc = run("replay", str(path), "--variant", "lost_wakeup")
    assert proc.returncode == 2
    assert "diverges at step" in proc.stderr
    assert "recorded on variant reference, replayed on lost_wakeup" in proc.stderr


def test_unreadable_trace_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = run("replay", str(bad))
    assert proc.returncode == 2 and "not JSON" in proc.stderr


def test_reproduce_raises_with_the_step_number() -> None:
    checked = api.check_spec(SPEC)
    assert checked.system is not None and checked.result.trace is not None
    doc = trace_to_itf(checked.result.trace, checked.system, SPEC)
    doc["states"][5]["dw.timer.pending"] = not doc["states"][5]["dw.timer.pending"]
    trace = itf_to_trace(doc, checked.system)
    with pytest.raises(ReplayError) as err:
        reproduce(checked.system, compile_system(checked.system), trace)
    assert err.value.step in (4, 5)


@pytest.mark.parametrize(("spec", "variant"), [
    ("kthread_percpu_stop", "reference"), ("kthread_park", "v4.17"), ("liveness_kthread_park", "v3.8"),
    ("mod_vs_cancel_symptoms", "reference"),
])
def test_every_saved_counterexample_replays_on_its_own_variant(spec: str, variant: str) -> None:
    """Through the ITF file, as `kverify replay` reads it: every violation's trace reproduces.
    (The life-cycle model has a local and a struct field both called t1.kthread.data; the
    layout gives each its own name, or one value would be lost in the file.)"""
    checked = api.check_spec(f"specs/{spec}.kvs", variant)
    system = checked.system
    assert system is not None and checked.result.violations
    names = [v.name for v in system.layout.variables]
    assert len(names) == len(set(names))
    compiled = compile_system(system)
    for v in checked.result.violations:
        assert v.trace is not None
        doc = json.loads(json.dumps(trace_to_itf(v.trace, system, f"specs/{spec}.kvs")))
        outcome = reproduce(system, compiled, itf_to_trace(doc, system))
        assert outcome.violation is not None and outcome.violation.prop == v.prop


def test_every_bundled_layout_names_each_variable_once() -> None:
    """ITF states and replay diffs key values by variable name: a name used twice would lose
    a value (it did: t1.kthread.data, a local of kthread() and a field of struct kthread)."""
    for path in sorted(Path("specs").glob("*.kvs")):
        for variant, _ in api.variants(str(path)):
            names = [v.name for v in api.load_system(str(path), variant).layout.variables]
            assert len(names) == len(set(names)), (path.name, variant)


def test_a_step_is_matched_by_what_it_was_when_its_id_names_another_statement() -> None:
    """Transition ids are numbered per variant.  On another variant, a step whose recorded id
    names another statement is found again by its #meta (process, statement, model line) and
    the states around it, so the trace still reproduces; without the meta it would not.  (On
    its own variant the id is the step: see test_edited_schedule_diverges_at_that_step.)"""
    from functools import partial

    from kverify.commands.replay import _fire

    checked = api.check_spec(SPEC)
    system = checked.system
    assert system is not None and checked.result.trace is not None
    compiled = compile_system(system)
    doc = json.loads(json.dumps(trace_to_itf(checked.result.trace, system, SPEC)))
    doc["#meta"]["variant"] = "another"  # as if recorded on a variant with other ids
    wrong = (doc["states"][3]["#meta"]["tid"] + 1) % len(system.transitions)
    doc["states"][3]["#meta"]["tid"] = wrong
    doc["#meta"]["tids"][2] = wrong
    fire = partial(_fire, compiled)
    assert reproduce(system, compiled, itf_to_trace(doc, system, fire)).violation is not None
    for key in ("action", "source"):
        del doc["states"][3]["#meta"][key]
    with pytest.raises(ReplayError):
        reproduce(system, compiled, itf_to_trace(doc, system, fire))


def test_replay_on_a_variant_diverges_where_the_variants_differ(tmp_path: Path) -> None:
    """kthread_percpu_stop's trace on lost_parked_complete (same layout, other ids): the steps
    before the parking code replay; the divergence names both variants."""
    itf = tmp_path / "ps.json"
    assert run("check", "specs/kthread_percpu_stop.kvs", "--itf", str(itf)).returncode == 1
    proc = run("replay", str(itf), "--variant", "lost_parked_complete")
    assert proc.returncode == 2
    step = int(re.search(r"diverges at step (\d+)", proc.stderr).group(1))  # type: ignore[union-attr]
    assert step > 20 and "recorded on variant reference, replayed on lost_parked_complete" in proc.stderr


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda d: d.update(vars=[["nested"], *d["vars"]]), 1),  # vars not kverify's: ignored
        (lambda d: d.update(vars=[{"a": 1}]), 1),
        (lambda d: d.update(vars="abc"), 1),
        (lambda d: d["states"][-1].update({"#meta": "x"}), 2),
        (lambda d: d["states"][-1].update({"#meta": [1]}), 2),
    ],
    ids=["vars-nested-list", "vars-object", "vars-string", "last-meta-string", "last-meta-list"],
)
def test_hand_edited_itf_is_read_or_refused_without_a_crash(
    itf_file: Path, tmp_path: Path, edit, code: int
) -> None:
    doc = json.loads(itf_file.read_text())
    edit(doc)
    proc = run("replay", str(_edit(doc, tmp_path, "edited.json")))
    assert proc.returncode == code, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


def test_replay_on_another_spec_names_both_specs(itf_file: Path) -> None:
    proc = run("replay", str(itf_file), "--spec", "specs/destroy_worker.kvs")
    assert proc.returncode == 2
    assert "recorded on spec specs/mod_vs_cancel.kvs, replayed on specs/destroy_worker.kvs" in proc.stderr
    assert "hint: replay it on the spec and variant it was recorded on" in proc.stderr


SHIFT = """spec "shift";
int<0..3> x;
int<0..3> y;
void helper() { y = 1; }
variant b "one more step in a helper: every later transition id moves" {
    void helper() { y = 1; y = 2; }
}
process pz { helper(); }
process p1 { x = 1; WARN_ON(x == 1); }
"""


def test_a_failing_last_step_is_matched_on_a_variant_with_shifted_ids(tmp_path: Path) -> None:
    """The WARN's step fails before its pc is written: it is matched by its start pc."""
    spec = tmp_path / "shift.kvs"
    spec.write_text(SHIFT)
    itf = tmp_path / "shift.json"
    assert run("check", str(spec), "--no-por", "--itf", str(itf)).returncode == 1
    proc = run("replay", str(itf), "--variant", "b")
    assert proc.returncode == 1, proc.stderr
    assert "reproduces p1:WARN_ON" in proc.stdout


def test_a_process_local_named_like_a_struct_field_gets_its_own_name(tmp_path: Path) -> None:
    """Process p's local x and the field x of the global struct p are both `p.x`: the field
    keeps the name, the local is `p.x (local)`, and the counterexample replays through ITF."""
    spec = tmp_path / "dup.kvs"
    spec.write_text(
        'spec "dup";\nstruct s { int<0..3> x; };\ns p;\n'
        "process p { int<0..3> x; x = 2; p.x = 1; }\nfinal f: p.x == 0;\n"
    )
    names = [v.name for v in api.load_system(str(spec)).layout.variables]
    assert "p.x" in names and "p.x (local)" in names and len(names) == len(set(names))
    itf = tmp_path / "dup.json"
    assert run("check", str(spec), "--itf", str(itf)).returncode == 1
    assert run("replay", str(itf)).returncode == 1


__all__ = ["at_root"]  # the autouse fixture
