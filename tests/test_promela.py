"""The Promela export: SPIN reaches kverify's verdict on the same steps.

Needs `spin` and `gcc` (Debian package spin; .ci/browser-deps.sh installs it).  Skipped only
when they are missing outside CI; under CI a missing SPIN is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kverify.api import check_system, load_system
from kverify.errors import KverifyError
from kverify.export.promela import export_promela
from kverify.result import Verdict

SPECS = Path(__file__).resolve().parent.parent / "specs"
HAVE_SPIN = shutil.which("spin") is not None and shutil.which("gcc") is not None

needs_spin = pytest.mark.skipif(
    not HAVE_SPIN and not os.environ.get("CI"), reason="spin or gcc not installed"
)


def run_spin(pml: str, workdir: Path) -> str:
    (workdir / "m.pml").write_text(pml)
    subprocess.run(["spin", "-a", "m.pml"], cwd=workdir, check=True, capture_output=True)
    subprocess.run(["gcc", "-O2", "-DSAFETY", "-DNOREDUCE", "-DVECTORSZ=4096", "-o", "pan", "pan.c"],
                   cwd=workdir, check=True, capture_output=True)
    out = subprocess.run(["./pan", "-m1000000"], cwd=workdir, capture_output=True, text=True)
    return out.stdout


@needs_spin
@pytest.mark.parametrize(
    ("spec", "variant"),
    [("mod_vs_cancel", "reference"), ("mod_vs_cancel", "v5.13"), ("mod_vs_cancel_symptoms", "reference"),
     ("destroy_worker", "reference"), ("queue_flush_cancel", "v5.13")],
)
def test_spin_agrees_with_kverify(tmp_path: Path, spec: str, variant: str) -> None:
    system = load_system(str(SPECS / f"{spec}.kvs"), variant)
    ours = check_system(system)
    report = run_spin(export_promela(system), tmp_path)
    assert "errors:" in report, report
    spin_violated = "errors: 0" not in report
    assert spin_violated == (ours.verdict is Verdict.VIOLATED), report


def test_export_keeps_every_step_and_check() -> None:
    system = load_system(str(SPECS / "mod_vs_cancel.kvs"), "reference")
    pml = export_promela(system)
    assert pml.count("d_step {") == len(system.transitions)
    checks = sum(1 for t in system.transitions for op in t.ops if type(op).__name__ == "Check")
    assert pml.count("assert(") >= checks
    assert "end: do" in pml  # the daemons may block in their loop


def test_export_refuses_what_it_cannot_express() -> None:
    with pytest.raises(KverifyError) as err:
        export_promela(load_system(str(SPECS / "kthread_park.kvs")))
    assert "cannot export step" in err.value.render()


def test_export_command(tmp_path: Path) -> None:
    import sys

    out = tmp_path / "m.pml"
    done = subprocess.run([sys.executable, "-m", "kverify", "export", "--promela",
                           str(SPECS / "destroy_worker.kvs"), "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("/* destroy_worker")
