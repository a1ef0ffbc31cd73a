"""The HTML report of the bundled mod_delayed_work bug, opened in a real headless Chromium.

Skipped only when Chromium or its driver is missing and CI is not set; on CI (CI=true) a missing
browser is a failure (.ci/browser-deps.sh installs it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kverify_run import SPEC, run

from kverify.ir.system import SourceRef
from kverify.trace.html import render_trace_table
from kverify.trace.model import Trace, TraceStep, TraceViolation

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _browser_or_skip() -> tuple[str, str]:
    if CHROMIUM and DRIVER:
        return CHROMIUM, DRIVER
    if os.environ.get("CI"):
        pytest.fail("chromium and chromedriver are needed on CI: run .ci/browser-deps.sh")
    pytest.skip("chromium or chromedriver not installed (CI installs them)")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    proc = run("check", SPEC, "--html", str(path))
    assert proc.returncode == 1, proc.stderr
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    binary, driver_path = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_is_self_contained(report: Path) -> None:
    text = report.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "<link" not in text and "@import" not in text


def test_browser_renders_swimlanes_changes_and_property(browser, report: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(report.as_uri())  # type: ignore[attr-defined]
    find = browser.find_elements  # type: ignore[attr-defined]
    lanes = [e.text for e in find(By.CSS_SELECTOR, "th.lane-head")]
    assert lanes == ["worker_thread", "timer", "cpu0", "cpu1"]
    rows = find(By.CSS_SELECTOR, "table.swimlanes tr.step")
    assert len(rows) >= 19
    first_cell = find(By.CSS_SELECTOR, 'tr[data-step="1"] td.lane[data-process] .step-cell')
    assert first_cell and first_cell[0].is_displayed()
    assert re.search(r"models/\S+\.kvl:\d+ · kthread\.c:\d+", first_cell[0].text)
    marks = [m for m in find(By.CSS_SELECTOR, "mark.changed") if m.is_displayed()]
    assert any("dw.work.canceling" in m.text for m in marks)
    background = marks[0].value_of_css_property("background-color")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    # the last step's state is unfolded, its changed rows highlighted
    changed_rows = [r for r in find(By.CSS_SELECTOR, "table.vars tr.changed") if r.is_displayed()]
    assert changed_rows
    prop = find(By.CSS_SELECTOR, ".property")[0]
    assert prop.is_displayed() and "canceling_blocks_queueing" in prop.text
    failing = find(By.CSS_SELECTOR, "tr.partial .fails")
    assert failing and "canceling_blocks_queueing" in failing[0].text
    assert browser.execute_script("return document.images.length") == 0  # type: ignore[attr-defined]


def _lasso() -> Trace:
    src = SourceRef("m.kvl", 3)
    steps = tuple(
        TraceStep(k, k % 2, f"p{k % 2}", f"s{k}", src, None, (), (k,), {"x": str(k)})
        for k in range(4)
    )
    return Trace((0,), {"x": "0"}, ("p0", "p1"), steps, TraceViolation("live", "liveness", "m"), 1)


def test_lasso_loop_is_marked() -> None:
    html = render_trace_table(_lasso())
    assert html.count("in-loop") == 3  # steps 2..4
    assert "loop starts here" in html and "loops back to step 2" in html
