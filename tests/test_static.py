"""Static checks: mypy (strict, configured in pyproject.toml) on the package, and ruff on the
package, the tests and the benchmarks, both clean.

Each runs in a subprocess from the repository root, so it reads the project's configuration,
and is skipped when the tool is not installed (both come with the ``test`` extra).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=900
    )


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")
    done = _run("mypy", "kverify")
    assert done.returncode == 0, f"mypy kverify exited {done.returncode}:\n{done.stdout}{done.stderr}"


def test_ruff_is_clean() -> None:
    pytest.importorskip("ruff")
    done = _run("ruff", "check", "kverify", "tests", "bench")
    assert done.returncode == 0, f"ruff check exited {done.returncode}:\n{done.stdout}{done.stderr}"
