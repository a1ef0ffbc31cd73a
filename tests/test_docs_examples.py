"""Every example of docs/language.md parses; every complete spec in it loads and reaches the
verdict its fence states (``violated``) or holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kverify.api import check_system
from kverify.lang import load_spec, parse
from kverify.result import Verdict

DOC = Path(__file__).resolve().parent.parent / "docs" / "language.md"
FENCE = re.compile(r"^```(kvs|kvl)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str | None, str, int, bool]]:
    """(kind, file= path or None, text, line in the doc, whether the fence says ``violated``)
    of every kvs/kvl block."""
    text = DOC.read_text()
    out = []
    for m in FENCE.finditer(text):
        kind, info, body = m.group(1), m.group(2), m.group(3)
        path = re.search(r"file=(\S+)", info)
        out.append(
            (
                kind,
                path.group(1) if path else None,
                body,
                text.count("\n", 0, m.start()) + 1,
                "violated" in info.split(),
            )
        )
    return out


BLOCKS = _blocks()


def test_the_doc_has_examples() -> None:
    kinds = [b[0] for b in BLOCKS]
    assert kinds.count("kvs") >= 10 and kinds.count("kvl") >= 3


@pytest.mark.parametrize(
    ("kind", "path", "text", "line", "violated"), BLOCKS, ids=[f"line{b[3]}" for b in BLOCKS]
)
def test_doc_example(
    tmp_path: Path, kind: str, path: str | None, text: str, line: int, violated: bool
) -> None:
    for _, other, body, _, _ in BLOCKS:  # the named files other examples use or include
        if other is not None:
            target = tmp_path / other
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
    parse(text, path or f"language.md:{line}")
    if kind == "kvs":
        spec = tmp_path / (path or "example.kvs")
        spec.write_text(text)
        system = load_spec(str(spec))
        assert system.transitions, "a complete spec has steps"
        result = check_system(system, max_states=200_000)
        assert result.verdict is (Verdict.VIOLATED if violated else Verdict.HOLDS), (
            f"language.md:{line}: {result.verdict.value} {result.violated} "
            "(a fence that says `violated` expects a violation)"
        )


def test_tutorial_finds_the_lost_update(tmp_path: Path) -> None:
    """The tutorial's claim: the unlocked CPU loses an update, the locked version holds."""
    from lang_helpers import explore

    (text,) = [b[2] for b in BLOCKS if b[1] == "counter.kvs"]
    racy = tmp_path / "racy.kvs"
    racy.write_text(text)
    fixed = tmp_path / "fixed.kvs"
    fixed.write_text(
        text.replace(
            "process cpu1 { inc(); }",
            "process cpu1 { spin_lock(&lock); inc(); spin_unlock(&lock); }",
        )
    )
    assert explore(load_spec(str(racy))).ints("counter") == {(1,), (2,)}
    assert explore(load_spec(str(fixed))).ints("counter") == {(2,)}


def test_variants_example_lists_its_variants(tmp_path: Path) -> None:
    from kverify.lang import list_variants

    (text,) = [b[2] for b in BLOCKS if b[0] == "kvs" and 'spec "variants"' in b[2]]
    spec = tmp_path / "v.kvs"
    spec.write_text(text)
    assert [n for n, _ in list_variants(str(spec))] == ["reference", "v5.13", "v5.14"]


def test_warn_example_declares_the_named_properties(tmp_path: Path) -> None:
    (text,) = [b[2] for b in BLOCKS if b[0] == "kvs" and 'spec "warns"' in b[2]]
    spec = tmp_path / "w.kvs"
    spec.write_text(text)
    names = {p.name for p in load_spec(str(spec)).properties}
    assert {
        "kthread_insert_work_sanity_check:WARN_ON_ONCE@617",
        "one_worker",
        "queue:WARN_ON@840",
        "queued",
    } <= names
