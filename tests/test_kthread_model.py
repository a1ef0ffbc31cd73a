"""The kthread life-cycle model (models/kthread.kvl): verdicts per spec and variant, replay of
every trace, a mutation per property showing it can fail, and the CLI end to end.

The expected verdicts are the ones docs/kthread.md explains.  The reference fails only
kthread_percpu_stop (kthread_stop() of a running per-cpu thread WARNs in __kthread_bind_mask(),
fixed upstream by "kthread: unpark only parked kthread", the v6.12 variant).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kverify.api import check_system, load_system
from kverify.explore.compile import compile_system
from kverify.result import Verdict
from kverify.trace.cpu import render_cpu
from kverify.trace.replay import replay

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

BIND_WARN = "__kthread_bind_mask:WARN_ON@400"
PARK = "park_postcondition"
EXPECTED = {
    ("kthread_create", "reference"): set(),
    ("kthread_park", "reference"): set(),
    ("kthread_park", "v3.8"): {PARK},
    ("kthread_park", "v4.16"): {PARK},
    ("kthread_park", "v4.17"): {PARK},
    ("kthread_park", "v6.12"): set(),
    ("kthread_percpu", "reference"): set(),
    ("kthread_percpu", "v3.8"): {PARK, "percpu_bound_before_run"},
    ("kthread_percpu", "v4.16"): {PARK, BIND_WARN},
    ("kthread_percpu", "v4.17"): {PARK, BIND_WARN},
    ("kthread_percpu", "v6.12"): set(),
    ("kthread_percpu_stop", "reference"): {BIND_WARN},
    ("kthread_percpu_stop", "v4.17"): {BIND_WARN},
    ("kthread_percpu_stop", "v6.12"): set(),
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
    assert result.stats.states > 1000  # a real exploration


@pytest.mark.parametrize(("spec", "variant"), sorted(k for k, v in EXPECTED.items() if v))
def test_every_trace_replays(results, spec: str, variant: str) -> None:
    system, result = results[(spec, variant)]
    compiled = compile_system(system)
    for violation in result.violations:
        assert violation.trace is not None
        replay(system, compiled, violation.trace)


def test_pre_4_18_park_returns_while_the_thread_can_run(results) -> None:
    """v4.17: kthread_park() returns after the parked completion while a wake-up of the
    thread (whose state test passed before TASK_PARKED was stored) is still in flight."""
    _, result = results[("kthread_park", "v4.17")]
    trace = next(v.trace for v in result.violations if v.prop == PARK)
    steps = [(s.process, s.kernel.line if s.kernel else None) for s in trace.steps]
    assert ("cpu0", 501) in steps and ("cpu0", 502) in steps  # wake_up_process, wait_for_completion
    assert ("t1", 182) in steps                                # set_current_state(TASK_PARKED)
    assert trace.steps[-1].process == "cpu0"
    cpu = render_cpu(trace)
    assert "kthread_park()" in cpu and "park_postcondition" in cpu
    assert "| t1" in cpu.splitlines()[0] or " t1 " in cpu.splitlines()[0]


# ---------------------------------------------------------------- each property can fail

def _mutant(tmp_path: Path, spec: str, replacements: list[tuple[str, str]], variant: str = "reference"):
    """Check `spec` against a copy of the models with text replaced in models/kthread.kvl."""
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(SPECS, tmp_path / "specs")
    model = tmp_path / "models" / "kthread.kvl"
    text = model.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    model.write_text(text)
    system = load_system(str(tmp_path / "specs" / f"{spec}.kvs"), variant)
    result = check_system(system)
    compiled = compile_system(system)
    for violation in result.violations:
        replay(system, compiled, violation.trace)
    return set(result.violated)


def _spec(tmp_path: Path, name: str, body: str) -> Path:
    (tmp_path / "specs").mkdir(exist_ok=True)
    if not (tmp_path / "models").exists():
        shutil.copytree(ROOT / "models", tmp_path / "models")
    path = tmp_path / "specs" / f"{name}.kvs"
    path.write_text(
        'spec "test";\nuse "../models/kthread.kvl";\n'
        "init { kthreadd_init(kthreadd_thread); new_threads[0].task = t1; }\n"
        "daemon process kthreadd_thread { kthreadd(); }\n"
        "daemon process t1 { ret_from_fork(&new_threads[0]); }\n" + body
    )
    return path


def test_leak_of_the_create_info_is_seen(tmp_path) -> None:
    # kthreadd forgets to free the create info of a SIGKILLed creator when the fork fails
    found = _mutant(tmp_path, "kthread_create", [("@284 kfree(&create->mem);", "@284 ;")])
    assert found == {"create_info_freed"}


def test_double_free_and_use_after_free_are_seen(tmp_path) -> None:
    # kthread() frees the create info even when it got `done` (the creator frees it too)
    found = _mutant(
        tmp_path, "kthread_create", [("@229 if (done == null) {", "@229 if (done == null || true) {")]
    )
    assert {"double_free", "use_after_free"} & found


def test_threadfn_before_wakeup_is_seen(tmp_path) -> None:
    # kthread() forgets TASK_UNINTERRUPTIBLE: its first schedule() returns at once
    found = _mutant(
        tmp_path, "kthread_create", [("@246 __set_current_state(TASK_UNINTERRUPTIBLE);", "@246 ;")]
    )
    assert "threadfn_after_wakeup" in found
    assert "stop_before_wakeup_skips_threadfn" in found


def test_wrong_stop_result_is_seen(tmp_path) -> None:
    found = _mutant(tmp_path, "kthread_create", [("@251 ret = -EINTR;", "@251 ret = 0;")])
    assert found == {"stop_returns_threadfn_result"}


def test_progress_while_parked_is_seen(tmp_path) -> None:
    # kthread_park() that does not wait for the thread at all
    found = _mutant(tmp_path, "kthread_park", [
        ("@520 wait_for_completion(&kthread->parked);", "@520 ;"),
        ("@525 inactive = wait_task_inactive(k, TASK_PARKED);", "@525 inactive = true;"),
        ("assert park_postcondition: k->state == TASK_PARKED && !k->on_cpu;", ";"),
    ])
    assert "no_progress_while_parked" in found


def test_to_kthread_warn_is_seen(tmp_path) -> None:
    found = _mutant(tmp_path, "kthread_park", [("slot->task->pf_kthread = true;", ";")])
    assert "to_kthread:WARN_ON@75" in found


def test_park_twice_warns(tmp_path) -> None:
    spec = _spec(tmp_path, "park_twice", """
process cpu0 {
    task_struct *k = kthread_create_on_node(1, NUMA_NO_NODE);
    int ret;
    ret = kthread_park(k);
    ret = kthread_park(k);
    assert busy: ret == -EBUSY;
}
""")
    result = check_system(load_system(str(spec)))
    assert set(result.violated) == {"kthread_park:WARN_ON_ONCE@510"}


def test_park_of_an_exiting_thread_warns(tmp_path) -> None:
    spec = _spec(tmp_path, "park_exiting", """
process cpu0 {
    task_struct *k = kthread_create_on_node(1, NUMA_NO_NODE);
    int ret;
    get_task_struct(k);
    ret = kthread_stop(k);
    ret = kthread_park(k);
    assert nosys: ret == -ENOSYS;
    put_task_struct(k);
}
""")
    result = check_system(load_system(str(spec)))
    assert set(result.violated) == {"kthread_park:WARN_ON@507"}


def test_small_helpers(tmp_path) -> None:
    """kthread_data, kthread_probe_data, kthread_bind_mask, kthread_freezable_should_stop,
    tsk_fork_get_node on a thread that is stopped before any wake-up."""
    spec = _spec(tmp_path, "helpers", """
process cpu0 {
    task_struct *k = kthread_create_on_node(2, NUMA_NO_NODE);
    int ret;
    ret = kthread_data(k);
    assert data: ret == 2;
    ret = kthread_probe_data(k);
    assert probe: ret == 2;
    ret = tsk_fork_get_node(k);
    kthread_bind_mask(k, CPU_ALL_MASK);
    ret = kthread_stop(k);
    assert eintr: ret == -EINTR;
}
""")
    result = check_system(load_system(str(spec)))
    assert result.verdict == Verdict.HOLDS, result.violated
    assert "kthread_bind_mask" in (tmp_path / "models" / "kthread.kvl").read_text()


# ---------------------------------------------------------------- the command line

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kverify", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_cli_reference_park_holds() -> None:
    out = _cli("specs/kthread_park.kvs")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "holds" in out.stdout


def test_cli_v4_17_park_fails_with_cpu_columns() -> None:
    out = _cli("specs/kthread_park.kvs", "--variant", "v4.17", "--format", "cpu")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "violated    park_postcondition" in out.stdout
    assert "kthreadd_thread" in out.stdout and "cpu0" in out.stdout


def test_cli_lists_the_variants() -> None:
    out = _cli("specs/kthread_park.kvs", "--list-variants")
    assert out.returncode == 0
    for name in ("reference", "v3.8", "v4.16", "v4.17", "v6.12"):
        assert name in out.stdout


def test_cli_percpu_stop_fails_on_reference_and_holds_on_v6_1() -> None:
    assert _cli("specs/kthread_percpu_stop.kvs").returncode == 1
    assert _cli("specs/kthread_percpu_stop.kvs", "--variant", "v6.12").returncode == 0
