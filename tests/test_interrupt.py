"""Ctrl-C (SIGINT) during a check: statistics so far, exit 3, or 1 when a violation was found."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _interrupt(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "long.kvs"
    spec.write_text("// stands in for a spec: the test loads its system in Python\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent)]))
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "interrupt_target.py"), str(spec), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # a runner started in the background ignores SIGINT, and children inherit that:
        # restore the default so the interrupt is delivered as a user's Ctrl-C would be
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(2.0)  # well into the search, far from its end
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_sigint_prints_statistics_and_exits_3(tmp_path: Path) -> None:
    done = _interrupt(tmp_path)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["spec", "variant", "verdict"]
    assert lines[1].split()[2] == "incomplete"
    assert int(lines[1].split()[3]) > 1000  # states so far
    assert "search stopped: interrupted" in done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_sigint_keeps_the_violation_found_and_exits_1(tmp_path: Path) -> None:
    done = _interrupt(tmp_path, "bug")
    assert done.returncode == 1, done.stderr
    assert "search stopped: interrupted" in done.stdout
    assert "violation of early" in done.stdout  # the trace found before Ctrl-C
    assert "warn_on(1)" in done.stdout


def test_nothing_but_the_report_when_not_a_terminal(tmp_path: Path) -> None:
    done = _interrupt(tmp_path)
    assert done.stderr == ""  # no progress line, no control characters
    assert "\x1b" not in done.stdout


def test_progress_line_shows_states_rate_depth_frontier_memory() -> None:
    from kverify.cli import ProgressLine
    from kverify.result import Stats

    class Status:
        text = ""

        def update(self, text: str) -> None:
            self.text = text

    status = Status()
    ProgressLine("x.kvs", status).progress(
        Stats(states=123456, seconds=2.0, max_depth=17, extra={"queue": 4321})
    )
    for part in ("123,456 states", "61,728/s", "depth 17", "frontier 4,321", "MiB"):
        assert part in status.text
