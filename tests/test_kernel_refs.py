"""The models cite reference/kthread.c: every kthread.c line a step of the reference variant
names lies inside the kernel function the step names (found by the definitions at column 0
of the file), so a trace's `kthread.c:LINE` can be read beside the source."""

from __future__ import annotations

import re
from bisect import bisect_right
from pathlib import Path

import pytest

from kverify.api import load_system

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (ROOT / "reference" / "kthread.c").read_text(encoding="utf-8").splitlines()
DEFINITION = re.compile(
    r"^(?:static\s+|inline\s+|__\w+\s+|const\s+|unsigned\s+|struct\s+\w+\s*\*?\s*|void\s*\*?\s*"
    r"|int\s+|bool\s+|long\s+|\w+\s*\*?\s+)+\**(\w+)\("
)
STARTS = [
    (n, m.group(1))
    for n, line in enumerate(SOURCE, start=1)
    if (m := DEFINITION.match(line)) and not line.rstrip().endswith(";")
]
# Model helpers that stand for a kernel statement of another function, by design:
# kthread_insert_work_after is kthread_insert_work() called with a position (kthread.c
# 800-803, from kthread_flush_work), kthread_worker_thread is the threadfn return in kthread().
HELPERS = {("kthread_insert_work_after", "kthread_insert_work"), ("kthread_worker_thread", "kthread")}


def enclosing(line: int) -> str:
    k = bisect_right([n for n, _ in STARTS], line) - 1
    return STARTS[k][1] if k >= 0 else ""


@pytest.mark.parametrize("spec", sorted(p.stem for p in (ROOT / "specs").glob("*.kvs")))
def test_every_cited_line_is_in_the_named_function(spec: str) -> None:
    system = load_system(str(ROOT / "specs" / f"{spec}.kvs"), "reference")
    cited = {(t.kernel.function, t.kernel.line) for t in system.transitions if t.kernel is not None}
    assert cited
    wrong = [
        f"{function} @{line}: kthread.c:{line} is in {enclosing(line)}()"
        for function, line in sorted(cited)
        if not 1 <= line <= len(SOURCE)
        or (enclosing(line) != function and (function, enclosing(line)) not in HELPERS)
    ]
    assert wrong == []


def test_the_definition_finder_sees_the_functions_the_models_use() -> None:
    names = {name for _, name in STARTS}
    for name in ("kthread", "kthreadd", "kthread_park", "kthread_stop", "kthread_worker_fn",
                 "kthread_mod_delayed_work", "__kthread_cancel_work_sync"):
        assert name in names
    assert enclosing(1058) == "kthread_mod_delayed_work"
