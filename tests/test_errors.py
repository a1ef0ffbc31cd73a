"""User mistakes: each is a KverifyError rendered like a compiler diagnostic, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lang_helpers import write

from kverify.errors import KverifyError
from kverify.lang import load_spec

# (name, spec text, the line the error is on, words of the message, words of the hint or None)
CASES = [
    ("syntax", "int<0..3> x;\nprocess p { x = 1 }\n", 2, "syntax error", "';'"),
    (
        "unknown-name",
        "int<0..3> counter;\nprocess p { countr = 1; }\n",
        2,
        "unknown name 'countr'",
        "did you mean 'counter'",
    ),
    (
        "unknown-field",
        "struct s { int<0..3> owner; };\ns v;\nprocess p { v.ownr = 1; }\n",
        3,
        "no field 'ownr'",
        "did you mean 'owner'",
    ),
    (
        "unknown-function",
        "void lock() { }\nprocess p { lokc(); }\n",
        2,
        "unknown function 'lokc'",
        "did you mean 'lock'",
    ),
    (
        "arity",
        "void f(int a) { }\nprocess p { f(1, 2); }\n",
        2,
        "takes 1 argument(s), 2 given",
        None,
    ),
    (
        "builtin-arity",
        "int<0..1> x;\nprocess p { x = xchg(&x); }\n",
        2,
        "xchg takes 2",
        None,
    ),
    (
        "pointer-to-int",
        "struct s { int<0..3> f; };\ns v; int<0..3> x;\nprocess p { x = &v; }\n",
        3,
        "type error",
        None,
    ),
    (
        "compare-struct-pointers",
        "struct a { int<0..3> f; };\nstruct b { int<0..3> f; };\na *pa; b *pb; bool r;\n"
        "process p { r = pa == pb; }\n",
        4,
        "type error: comparing a * with b *",
        None,
    ),
    (
        "enum-to-int",
        "enum st { A, B };\nst s; int<0..3> x;\nprocess p { x = s; }\n",
        3,
        "type error",
        None,
    ),
    (
        "constant-out-of-range",
        "int<0..3> x;\nprocess p { x = 7; }\n",
        2,
        "out of range 0..3",
        None,
    ),
    (
        "initial-out-of-range",
        "int<0..3> x = 9;\nprocess p { x = 1; }\n",
        1,
        "out of range",
        None,
    ),
    (
        "goto-unknown-label",
        "process p {\n  goto nowhere;\n}\n",
        2,
        "unknown label 'nowhere'",
        "labels are local",
    ),
    (
        "recursion",
        "void f() { f(); }\nprocess p { f(); }\n",
        1,
        "recursive call of 'f'",
        "recursion is not supported",
    ),
    (
        "await-not-first",
        "int<0..3> x;\nprocess p { atomic { x = 1; await x == 1; } }\n",
        2,
        "await inside an atomic block must be its first statement",
        "move the await",
    ),
    (
        "pointer-to-scalar",
        "int *x;\nprocess p { }\n",
        1,
        "only pointers to structs",
        "struct with one field",
    ),
    (
        "call-right-of-and",
        "int<0..3> x;\nbool f() { return x == 1; }\nprocess p { if (x == 0 && f()) x = 2; }\n",
        3,
        "on the right of &&",
        "own statement",
    ),
    (
        "call-in-ternary",
        "int<0..3> x;\nint f() { return 1; }\nprocess p { x = x == 0 ? f() : 2; }\n",
        3,
        "?:",
        "if statement",
    ),
    ("unknown-type", "foo x;\nprocess p { }\n", 1, "unknown type 'foo'", "types are"),
    ("break-outside-loop", "process p { break; }\n", 1, "break outside a loop", None),
    (
        "duplicate-function",
        "void f() { }\nvoid f() { }\nprocess p { f(); }\n",
        2,
        "defined twice",
        "variant",
    ),
    (
        "void-value",
        "int<0..3> x;\nvoid f() { }\nprocess p { x = f(); }\n",
        3,
        "returns no value",
        None,
    ),
    ("no-effect", "int<0..3> x;\nprocess p { x + 1; }\n", 2, "syntax error", None),
    (
        "bad-allow",
        "int<0..3> x;\nprocess p { }\nallow livelock;\n",
        3,
        "unknown allowance",
        "allow deadlock",
    ),
    (
        "warn-as-value",
        "int<0..3> x; bool b;\nprocess p { b = warn_on(x == 1); }\n",
        2,
        "'warn_on'",
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "line", "message", "hint"), CASES, ids=[c[0] for c in CASES]
)
def test_mistake_is_rendered_like_a_compiler(
    tmp_path: Path, name: str, text: str, line: int, message: str, hint: str | None
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(KverifyError) as info:
        load_spec(str(path))
    err = info.value
    assert message in err.message
    rendered = err.render()
    first, source, caret, *rest = rendered.splitlines()
    m = re.match(r"(.+):(\d+):(\d+): error: ", first)
    assert m, rendered
    assert m.group(1).endswith("t.kvs") and int(m.group(2)) == line
    col = int(m.group(3))
    assert source.strip() == text.splitlines()[line - 1].strip()
    # the caret sits under the reported column of the source line
    assert caret.strip() and set(caret.strip()) == {"^"}
    assert caret.index("^") - 4 == col - 1
    if hint is not None:
        assert rest and rest[0].startswith("hint: ") and hint in rest[0], rendered


def test_error_in_an_included_library_names_the_library(tmp_path: Path) -> None:
    write(tmp_path / "lib", "void f() { y = 1; }\n", name="bad.kvl")
    path = write(tmp_path, 'include "lib/bad.kvl";\nprocess p { f(); }\n')
    with pytest.raises(KverifyError) as info:
        load_spec(str(path))
    first = info.value.render().splitlines()[0]
    assert re.match(r".*lib/bad\.kvl:1:12: error: unknown name 'y'", first)


def test_missing_use_file_points_at_the_use(tmp_path: Path) -> None:
    path = write(tmp_path, 'spec "s";\nuse "nothere.kvl";\nprocess p { }\n')
    with pytest.raises(KverifyError) as info:
        load_spec(str(path))
    rendered = info.value.render()
    assert re.match(
        r".*t\.kvs:2:1: error: no such file: .*nothere\.kvl", rendered.splitlines()[0]
    )
    assert 'use "nothere.kvl";' in rendered and "^" in rendered
    assert "hint:" in rendered


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(KverifyError) as info:
        load_spec(str(tmp_path / "absent.kvs"))
    assert "no such spec file" in info.value.render()


def test_unknown_variant_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'int<0..3> x;\nvariant v5.13 "fix" { }\nprocess p { x = 1; }\n'
    )
    with pytest.raises(KverifyError) as info:
        load_spec(str(path), "v9.99")
    rendered = info.value.render()
    # a command-line mistake: no file position, but the hint names the variants
    assert rendered.startswith("error: unknown variant 'v9.99'")
    assert "reference" in rendered and "v5.13" in rendered


def test_spec_without_processes(tmp_path: Path) -> None:
    path = write(tmp_path, "int<0..3> x;\n")
    with pytest.raises(KverifyError) as info:
        load_spec(str(path))
    assert "declares no process" in info.value.message


def test_init_that_blocks_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "int<0..3> x;\ninit { await x == 1; }\nprocess p { x = 1; }\n"
    )
    with pytest.raises(KverifyError) as info:
        load_spec(str(path))
    assert "init block blocks" in info.value.message


def test_init_that_fails_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "int<0..3> x;\ninit { x = 3; x = x + 1; }\nprocess p { x = 1; }\n"
    )
    with pytest.raises(KverifyError) as info:
        load_spec(str(path))
    assert "init block fails" in info.value.message


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize(
    ("name", "text"),
    [(c[0], c[1]) for c in CASES[:6]] + [("no-use", 'use "x.kvl";\nprocess p { }\n')],
)
def test_cli_reports_model_errors_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    cli = pytest.importorskip("kverify.cli")
    if not hasattr(cli, "main"):
        pytest.skip("no CLI main")
    path = write(tmp_path, text)
    code = cli.main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out + err
    assert re.search(r"t\.kvs:\d+:\d+: error: ", err)
