"""The pytest plugin: spec files as test items, one per property, the trace on failure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ("-p", "no:kverify", "-p", "kverify.pytest_plugin")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(ROOT / "models", pytester.path / "models")
    (pytester.path / "specs").mkdir()
    shutil.copy(ROOT / "specs" / "mod_vs_cancel.kvs", pytester.path / "specs")
    return pytester


def test_reference_spec_fails_with_the_trace(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "specs", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] >= 10
    result.stdout.fnmatch_lines(
        [
            "*FAILED specs/mod_vs_cancel.kvs::canceling_blocks_queueing[[]reference[]]*",
        ]
    )
    text = result.stdout.str()
    assert "canceling_blocks_queueing (assert) violated" in text
    assert "kthread_mod_delayed_work()" in text and " | cpu1" in text  # CPU columns
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_fixed_variant_passes(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "specs", "--kverify-variant", "v5.13", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes["passed"] >= 10
    assert result.ret == pytest.ExitCode.OK


def test_one_item_per_property(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "specs", "--collect-only", "-q", "-p", "no:cacheprovider")
    names = [line for line in result.stdout.lines if "::" in line]
    assert "specs/mod_vs_cancel.kvs::deadlock[reference]" in names
    assert len(names) == len(set(names)) >= 10


def test_broken_spec_is_one_failing_item(project: pytest.Pytester) -> None:
    (project.path / "specs" / "broken.kvs").write_text('spec "x";\nuse "nowhere.kvl";\n')
    result = project.runpytest(*PLUGIN, "specs/broken.kvs", "-p", "no:cacheprovider")
    assert result.parseoutcomes()["failed"] == 1
    assert "error:" in result.stdout.str()


def test_a_variant_the_model_lacks_is_skipped(project: pytest.Pytester) -> None:
    """specs/ mixes models: each spec runs in the requested variants its model has."""
    shutil.copy(ROOT / "specs" / "kthread_percpu_stop.kvs", project.path / "specs")
    result = project.runpytest(
        *PLUGIN, "specs", "--kverify-variant", "v5.13", "--kverify-variant", "v6.12",
        "-p", "no:cacheprovider", "-rs",
    )  # fmt: skip
    result.assert_outcomes(failed=0, skipped=2, passed=result.parseoutcomes()["passed"])
    result.stdout.fnmatch_lines(["*kthread_percpu_stop.kvs*its model has no variant 'v5.13'*"])
    result.stdout.fnmatch_lines(["*mod_vs_cancel.kvs*its model has no variant 'v6.12'*"])
