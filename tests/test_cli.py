"""The command line: output formats and exit codes (the front end is replaced by stubs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ir_builder as ex
import pytest

from kverify import api
from kverify.cli import main
from kverify.errors import KverifyError, Location

ROOT = Path(__file__).resolve().parent.parent

SYSTEMS = {
    "race": ex.counter_race,
    "locked": ex.locked_counter,
    "abba": ex.lock_order_deadlock,
    "big": lambda: ex.counters(3, 6),
}


def fake_load(path: str, variant: str | None = None):
    stem = Path(path).stem
    if stem == "broken":
        text = Path(path).read_text()
        raise KverifyError(
            "expected ';'", Location(path, 1, 5, text.splitlines()[0]), "add ';'"
        )
    if variant not in (None, "reference", "v5.13"):
        raise KverifyError(f"unknown variant {variant!r}")
    return SYSTEMS[stem]()


def fake_variants(path: str):
    return [
        ("reference", "kthread.c as of v5.12"),
        ("v5.13", "fix mod_delayed_work race"),
    ]


@pytest.fixture
def specs(tmp_path, monkeypatch):
    monkeypatch.setattr(api, "load_system", fake_load)
    monkeypatch.setattr(api, "list_model_variants", fake_variants)
    folder = tmp_path / "specs"
    folder.mkdir()
    for name in [*SYSTEMS, "broken"]:
        (folder / f"{name}.kvs").write_text("spec x {\n}\n")
    return folder


def test_violation_exits_1_with_a_step_table(specs, capsys):
    assert main(["check", str(specs / "race.kvs")]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "spec",
        "variant",
        "verdict",
        "states",
        "transitions",
        "seconds",
    ]
    assert lines[1].split()[:3] == ["counter", "reference", "violated"]
    assert "  violated    no_lost_update" in out
    assert "step | process | model line" in out


def test_holds_exits_0(specs, capsys):
    assert main(["check", str(specs / "locked.kvs"), "--variant", "v5.13"]) == 0
    assert "holds" in capsys.readouterr().out


def test_cpu_format(specs, capsys):
    assert main(["check", str(specs / "abba.kvs"), "--format", "cpu"]) == 1
    out = capsys.readouterr().out
    assert "cpu0         | cpu1" in out
    assert "deadlock violated:" in out


def test_json_single_and_several(specs, capsys):
    assert main(["check", str(specs / "race.kvs"), "--format", "json"]) == 1
    one = json.loads(capsys.readouterr().out)
    assert one["verdict"] == "violated" and one["trace"]["steps"]
    assert (
        main(
            [
                "check",
                str(specs / "race.kvs"),
                str(specs / "locked.kvs"),
                "--format",
                "json",
            ]
        )
        == 1
    )
    both = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in both] == ["violated", "holds"]


def test_out_file(specs, tmp_path, capsys):
    out = tmp_path / "result.json"
    assert (
        main(
            ["check", str(specs / "locked.kvs"), "--format", "json", "--out", str(out)]
        )
        == 0
    )
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text())["verdict"] == "holds"


def test_default_specs_are_every_kvs_sorted(specs, monkeypatch, capsys):
    (specs / "broken.kvs").unlink()
    monkeypatch.chdir(specs.parent)
    assert main(["check", "--format", "json"]) == 1
    names = [r["spec"] for r in json.loads(capsys.readouterr().out)]
    assert names == ["abba", "counters", "locked", "counter"]  # abba, big, locked, race


def test_no_specs_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "no spec given" in err and "hint:" in err


def test_model_error_exits_2_without_traceback(specs, capsys):
    assert main(["check", str(specs / "broken.kvs"), str(specs / "race.kvs")]) == 2
    captured = capsys.readouterr()
    assert "broken.kvs:1:5: error: expected ';'" in captured.err
    assert "^" in captured.err and "Traceback" not in captured.err
    assert "counter" in captured.out  # the other spec is still checked


def test_unknown_variant_exits_2(specs, capsys):
    assert main(["check", str(specs / "race.kvs"), "--variant", "v9"]) == 2
    assert "unknown variant" in capsys.readouterr().err


def test_limit_exits_3_with_a_hint(specs, capsys):
    assert main(["check", str(specs / "big.kvs"), "--max-states", "5"]) == 3
    assert "max-states limit 5 reached (raise --max-states)" in capsys.readouterr().out


def test_list_variants(specs, capsys):
    assert main(["check", str(specs / "race.kvs"), "--list-variants"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "reference  kthread.c as of v5.12",
        "v5.13      fix mod_delayed_work race",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "x.kvs", "--max-states", "-1"],
        ["check", "--format", "html"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2


def test_missing_spec_file(capsys):
    assert main(["check", "no/such/spec.kvs"]) == 2
    assert "no such spec file: no/such/spec.kvs" in capsys.readouterr().err


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "kverify", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def test_subprocess_missing_file_exits_2():
    proc = _run("check", "does-not-exist.kvs")
    assert proc.returncode == 2
    assert "no such spec file" in proc.stderr and "Traceback" not in proc.stderr


def test_subprocess_bad_flag_exits_2():
    proc = _run("check", "--no-such-flag")
    assert proc.returncode == 2
    assert "unrecognized arguments" in proc.stderr


def test_subprocess_help_exits_0():
    proc = _run("check", "--help")
    assert proc.returncode == 0 and "--max-states" in proc.stdout


def test_por_with_depth_first_search_is_a_usage_error(specs, capsys):
    assert main(["check", str(specs / "race.kvs"), "--por", "--strategy", "dfs"]) == 2
    assert "breadth-first" in capsys.readouterr().err


def test_reduction_is_on_by_default_with_bfs_and_off_with_no_por_or_dfs(capsys):
    """The default run reduces (and says how much); --no-por and --strategy dfs explore every
    interleaving; all three reach the same verdict and violated properties, and the reduced
    run stores fewer states."""
    spec = str(Path(__file__).resolve().parent.parent / "specs" / "mod_vs_cancel.kvs")
    runs = {}
    for name, flags in (("default", []), ("no-por", ["--no-por"]), ("dfs", ["--strategy", "dfs"])):
        assert main(["check", spec, "--format", "json", *flags]) == 1
        runs[name] = json.loads(capsys.readouterr().out)
    assert "por" in runs["default"] and "por" not in runs["no-por"] and "por" not in runs["dfs"]
    assert runs["default"]["states"] < runs["no-por"]["states"] == runs["dfs"]["states"]
    assert runs["default"]["violated"] == runs["no-por"]["violated"] == runs["dfs"]["violated"]
    assert main(["check", spec]) == 1
    text = capsys.readouterr().out
    assert "reduction:" in text and "need not be the shortest" in text
    assert main(["check", spec, "--min-switches"]) == 1
    assert "need not be the shortest" not in capsys.readouterr().out


def test_compare_por_reports_the_full_search_and_its_ratios(capsys):
    """--compare-por adds the full search's figures (those of a --no-por run) and the ratios to
    the reduced run's statistics, says the verdicts agree, and is refused without reduction."""
    spec = str(Path(__file__).resolve().parent.parent / "specs" / "mod_vs_cancel.kvs")
    assert main(["check", spec, "--variant", "v5.13", "--format", "json", "--no-por"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert main(["check", spec, "--variant", "v5.13", "--format", "json", "--compare-por"]) == 0
    both = json.loads(capsys.readouterr().out)
    por = both["por"]
    assert por["full_search"]["states"] == full["states"]
    assert por["full_search"]["transitions"] == full["transitions"]
    assert por["state_ratio"] == round(full["states"] / both["states"], 2) > 1
    assert por["transition_ratio"] == round(full["transitions"] / both["transitions"], 2) > 1
    assert por["agree"] is True
    assert main(["check", spec, "--compare-por"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if "full search:" in x)
    assert "fewer states" in line and "same verdicts" in line
    assert main(["check", spec, "--compare-por", "--max-states", "50", "--format", "json"]) == 3
    assert json.loads(capsys.readouterr().out)["por"]["agree"] is None
    for flags, hint in ((["--no-por"], "drop --no-por"), (["--strategy", "dfs"], "drop --strategy dfs"),
                        (["--audit-por"], "run them one at a time")):
        assert main(["check", spec, "--compare-por", *flags]) == 2
        assert f"hint: {hint}" in capsys.readouterr().err


def test_compare_por_after_ctrl_c_in_the_reduced_search_skips_the_full_one(monkeypatch, capsys):
    """Ctrl-C during the reduced search: the full search is not started, and the report says
    why there are no ratios; with a limit hit by one search only, the line says which."""
    from kverify.explore import search as search_module

    spec = str(Path(__file__).resolve().parent.parent / "specs" / "mod_vs_cancel.kvs")
    assert main(["check", spec, "--compare-por", "--max-states", "8000", "--format", "json"]) == 1
    por = json.loads(capsys.readouterr().out)["por"]
    assert por["reduced_search_stopped"] is None and por["full_search"]["stopped"].startswith("max-states")
    assert por["state_ratio"] is None and por["agree"] is None
    started = []
    real = search_module._Search._explore

    def explore(self):
        started.append(self.reducer is not None)
        if self.reducer is not None:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(search_module._Search, "_explore", explore)
    main(["check", spec, "--compare-por"])
    out = capsys.readouterr().out
    assert started == [True]  # the full search never started
    assert "full search: not run (the reduced search stopped: interrupted)" in out


def test_compare_por_catches_a_reduction_that_loses_a_violation(monkeypatch, capsys):
    """A reduction that follows one step per state misses the race; the comparison says so
    and reports the full search's verdicts."""
    from kverify.explore.por import StubbornSets

    monkeypatch.setattr(StubbornSets, "choose", lambda self, state, enabled, failing=(): {min(enabled)})
    spec = str(Path(__file__).resolve().parent.parent / "specs" / "mod_vs_cancel.kvs")
    assert main(["check", spec, "--format", "json"]) == 0  # the broken reduction alone
    capsys.readouterr()  # drop the broken run's report
    assert main(["check", spec, "--compare-por", "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["por"]["agree"] is False
    assert out["violated"] == ["canceling_blocks_queueing"]
    assert any("bug in kverify's partial-order reduction" in note for note in out["notes"])


def test_a_run_over_several_specs_ends_with_a_tally(tmp_path, capsys):
    """The last line says how many specs hold and names those violated or not checked; a
    single spec's report has no such line, and JSON output none either."""
    specs = Path(__file__).resolve().parent.parent / "specs"
    missing = str(tmp_path / "missing.kvs")
    main(["check", str(specs / "mod_vs_cancel.kvs"), str(specs / "destroy_worker.kvs"), missing])
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert last == f"checked 3 specs: 1 violated (mod_vs_cancel), 1 holds, 1 could not be checked ({missing})"
    main(["check", str(specs / "destroy_worker.kvs")])
    assert "checked " not in capsys.readouterr().out
    main(["check", str(specs / "destroy_worker.kvs"), str(specs / "destroy_worker.kvs"), "--format", "json"])
    assert isinstance(json.loads(capsys.readouterr().out), list)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("kverify ")


def test_unknown_variant_names_the_spec_and_its_variants(capsys):
    spec = Path(__file__).resolve().parent.parent / "specs" / "mod_vs_cancel.kvs"
    assert main(["check", str(spec), "--variant", "v9"]) == 2
    err = capsys.readouterr().err
    assert "mod_vs_cancel.kvs" in err and "reference, v5.13, lost_wakeup" in err
