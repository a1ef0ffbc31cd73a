"""Run the kverify command line on the bundled specs, in-process or as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = "specs/mod_vs_cancel.kvs"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m kverify ARGS`` in the repository root."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "kverify", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in-process checks from the repository root (spec paths are relative to it)."""
    monkeypatch.chdir(ROOT)
