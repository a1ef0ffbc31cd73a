"""CI reports of the bundled mod_delayed_work bug: SARIF against the official 2.1.0 schema,
JUnit through a JUnit parser, and the --json summary."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml
from kverify_run import ROOT, SPEC, run

SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    paths = {k: folder / f"report.{k}" for k in ("sarif", "junit", "json")}
    proc = run(
        "check", SPEC, "--sarif", str(paths["sarif"]), "--junit", str(paths["junit"]),
        "--json", str(paths["json"]),
    )
    assert proc.returncode == 1, proc.stderr
    return paths


def test_sarif_validates_against_the_schema(reports: dict[str, Path]) -> None:
    log = json.loads(reports["sarif"].read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    assert log["version"] == "2.1.0"


def test_sarif_locates_the_violation_in_the_model_and_in_kthread_c(
    reports: dict[str, Path],
) -> None:
    run_ = json.loads(reports["sarif"].read_text())["runs"][0]
    (result,) = run_["results"]
    assert result["ruleId"] == "canceling_blocks_queueing"
    model, kernel = (loc["physicalLocation"] for loc in result["locations"])
    assert model["artifactLocation"]["uri"] == "models/kthread_worker.kvl"
    line = model["region"]["startLine"]
    text = (ROOT / "models" / "kthread_worker.kvl").read_text().splitlines()[line - 1]
    assert "assert canceling_blocks_queueing" in text
    assert kernel["artifactLocation"] == {"uri": "kthread.c", "uriBaseId": "KERNEL_SRC"}
    assert kernel["region"]["startLine"] == 1072
    flows = result["codeFlows"][0]["threadFlows"]
    assert {"cpu0", "cpu1"} <= {f["id"] for f in flows}
    rules = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert rules[result["ruleIndex"]] == "canceling_blocks_queueing"


def test_junit_is_read_by_a_junit_parser(reports: dict[str, Path]) -> None:
    xml = JUnitXml.fromfile(str(reports["junit"]))
    suites = list(xml)
    assert len(suites) == 1
    cases = {case.name: case for case in suites[0]}
    assert "canceling_blocks_queueing" in cases and "deadlock" in cases
    failed = cases["canceling_blocks_queueing"]
    (failure,) = [r for r in failed.result if isinstance(r, Failure)]
    assert "work->canceling == 0" in failure.message
    assert "kthread_mod_delayed_work()" in failure.text  # the CPU columns
    assert all(not case.result for name, case in cases.items() if name != failed.name)
    assert suites[0].failures == 1 and suites[0].tests == len(cases)


def test_json_summary(reports: dict[str, Path]) -> None:
    summary = json.loads(reports["json"].read_text())
    assert summary["exit_code"] == 1
    (result,) = summary["results"]
    assert result["violated"] == ["canceling_blocks_queueing"]
    assert result["trace"]["steps"][-1]["kernel"]["line"] == 1072


def test_fixed_variant_reports_pass(tmp_path: Path) -> None:
    junit, sarif = tmp_path / "j.xml", tmp_path / "s.sarif"
    proc = run("check", SPEC, "--variant", "v5.13", "--junit", str(junit), "--sarif", str(sarif))
    assert proc.returncode == 0, proc.stderr
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    assert suite.failures == 0 and suite.errors == 0 and suite.tests > 0
    log = json.loads(sarif.read_text())
    jsonschema.validate(log, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
    assert log["runs"][0]["results"] == []
