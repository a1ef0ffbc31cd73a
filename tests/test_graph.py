"""`kverify graph SPEC --dot FILE`: a small state space with the counterexample highlighted."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import ir_builder as ex
import pytest

from kverify import api
from kverify.cli import main


@pytest.fixture
def race_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(api, "load_system", lambda path, variant=None: ex.counter_race())
    spec = tmp_path / "race.kvs"
    spec.write_text("// the system comes from ir_builder.counter_race\n")
    return spec


def test_graph_highlights_the_counterexample(race_spec: Path, tmp_path: Path, capsys) -> None:
    dot = tmp_path / "race.dot"
    assert main(["graph", str(race_spec), "--dot", str(dot)]) == 1
    text = dot.read_text()
    assert text.startswith('digraph "counter" {')
    assert "shape=doublecircle" in text
    hot = [line for line in text.splitlines() if "color=red" in line and "->" in line]
    assert len(hot) == 4  # the lost-update interleaving: four steps
    assert 'label="cpu0: tmp = x"' in text
    assert "wrote" in capsys.readouterr().out
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("graphviz is needed on CI: run .ci/browser-deps.sh")
        return
    svg = subprocess.run(["dot", "-Tsvg", str(dot)], capture_output=True, text=True, check=True)
    assert "<svg" in svg.stdout


def test_graph_refuses_a_large_state_space(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(api, "load_system", lambda path, variant=None: ex.counters(3, 6))
    spec = tmp_path / "big.kvs"
    spec.write_text("//\n")
    assert main(["graph", str(spec), "--dot", str(tmp_path / "g.dot"), "--max-states", "50"]) == 3
    assert "too large to draw" in capsys.readouterr().err
    assert not (tmp_path / "g.dot").exists()


def test_graph_refuses_a_large_state_space_even_with_a_violation_in_it(tmp_path: Path, capsys) -> None:
    """A violation found before the limit does not make a truncated graph drawable."""
    spec = Path(__file__).resolve().parent.parent / "specs" / "mod_vs_cancel.kvs"
    dot = tmp_path / "g.dot"
    assert main(["graph", str(spec), "--dot", str(dot), "--max-states", "2000"]) == 3
    assert "too large to draw" in capsys.readouterr().err
    assert not dot.exists()
