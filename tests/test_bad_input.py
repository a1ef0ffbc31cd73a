"""Bad input from a careless or adversarial user: a clear error, the right exit code, never a
Python traceback.

Exit codes: 0 holds, 1 violated, 2 usage or model error, 3 incomplete.  Every test here runs
``python -m kverify`` as a subprocess on files written to ``tmp_path``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCATION = re.compile(r"^\S+:\d+:\d+: error", re.MULTILINE)


def kverify(*args: str, cwd: Path, timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "kverify", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False, **kw,
    )  # fmt: skip


def no_traceback(p: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in p.stdout + p.stderr, p.stderr[-2000:]


def spec(tmp_path: Path, text: str, name: str = "t.kvs") -> Path:
    path = tmp_path / name
    path.write_text('spec "t";\n' + text, encoding="utf-8")
    return path


VIOLATING = "int<0..3> c;\nprocess p { int<0..3> t; t = c; c = t + 1; }\nprocess q { c = 2; }\n"
VIOLATING += "final both: c == 2;\n"


# ------------------------------------------------------------ tracebacks while loading


@pytest.mark.parametrize(
    "body",
    [
        # an if / else-if chain of 300 arms
        "int<0..9> a;\nprocess p { if (a == 0) a = 1; " + "else if (a == 1) a = 2; " * 300 + "}\n",
        # a condition of 400 && terms
        "int<0..9> a;\nprocess p { if (a == 0" + " && a == 0" * 400 + ") a = 1; }\n",
        # a sum of 400 terms
        "int<0..9> a;\nprocess p { a = 0" + " + 0" * 400 + "; }\n",
        # 300 nested blocks
        "int<0..1> a;\nprocess p { " + "{" * 300 + "a = 1;" + "}" * 300 + " }\n",
        # 250 nested negations
        "int<0..1> a;\nprocess p { a = " + "!" * 250 + "a; }\n",
    ],
    ids=["else-if-300", "and-400", "plus-400", "blocks-300", "not-250"],
)
def test_deep_nesting_is_an_error_not_a_traceback(tmp_path: Path, body: str) -> None:
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    no_traceback(p)
    assert p.returncode in (0, 2), p.stderr[-500:]


@pytest.mark.parametrize(
    "body",
    [
        "int<0..3> a;\nprocess p { a = " + "9" * 5000 + "; }\n",
        "int<0.." + "9" * 5000 + "> a;\nprocess p { a = 1; }\n",
    ],
    ids=["literal", "range"],
)
def test_5000_digit_number_is_an_error(tmp_path: Path, body: str) -> None:
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    no_traceback(p)
    assert p.returncode == 2
    assert LOCATION.search(p.stderr), p.stderr


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs /proc")
def test_use_of_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    # reading /proc/self/mem fails with EIO: any OSError, not only the ones _read lists
    p = kverify("check", str(spec(tmp_path, 'use "/proc/self/mem";\nint<0..1> a;\nprocess p { a = 1; }\n')),
                cwd=tmp_path)  # fmt: skip
    no_traceback(p)
    assert p.returncode == 2
    assert LOCATION.search(p.stderr), p.stderr


# ------------------------------------------------------------ tracebacks at run time


@pytest.mark.parametrize(
    "body",
    [
        "int<-3..3> a; int<-3..3> b;\nprocess p { b = -1; a = 1 << b; }\n",
        "int<-3..3> a; int<-3..3> b;\nprocess p { b = -1; a = 4 >> b; }\n",
        "int<-3..3> b;\nprocess p { b = -1; }\ninvariant i: (1 << b) >= 0;\n",
    ],
    ids=["shl-step", "shr-step", "shl-invariant"],
)
def test_negative_shift_is_a_model_error(tmp_path: Path, body: str) -> None:
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    no_traceback(p)
    assert p.returncode == 1
    assert re.search(r"violated\s+model-error", p.stdout), p.stdout


# ------------------------------------------------------------ silently wrong verdicts


def test_init_that_never_ends_is_an_error(tmp_path: Path) -> None:
    # today: 0 states, every property "holds", exit 0
    body = "int<0..1> a;\ninit { for (;;) { a = 1 - a; } }\nprocess p { a = 1; }\ninvariant never: a == 5;\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    no_traceback(p)
    assert p.returncode == 2, p.stdout
    assert "init" in p.stderr


def test_syntax_hint_names_punctuation_by_its_text(tmp_path: Path) -> None:
    """An operand is missing: the hint lists what may start one, as the user types it
    ('&', '!', '-', '~'), not as lark's terminal names (AMPERSAND, BANG, MINUS, TILDE)."""
    p = kverify("check", str(spec(tmp_path, "int<0..3> x;\nprocess p { x = 1 +; }\n")), cwd=tmp_path)
    assert p.returncode == 2 and LOCATION.search(p.stderr), p.stderr
    hint = next(line for line in p.stderr.splitlines() if line.startswith("hint: expected"))
    for text in ("'&'", "'!'", "'-'", "'~'", "'('", "a name", "a number"):
        assert text in hint
    assert not re.search(r"\b[A-Z]{3,}\b|ampersand|bang|tilde|minus", hint), hint


@pytest.mark.parametrize("loop", ["for (i = 0; i < 2; i++)", "for (; i < 2; i++)"])
def test_counting_for_loop_gets_a_hint_with_the_while_form(tmp_path: Path, loop: str) -> None:
    p = kverify("check", str(spec(tmp_path, f"int<0..3> i;\nprocess p {{ {loop} {{ }} }}\n")), cwd=tmp_path)
    assert p.returncode == 2 and LOCATION.search(p.stderr), p.stderr
    assert "hint: the only for loop is for (;;)" in p.stderr and "while (i < N)" in p.stderr
    no_traceback(p)


def test_a_missing_semicolon_at_a_line_end_is_named(tmp_path: Path) -> None:
    body = "int<0..3> x;\nprocess p {\n    x = 1\n    x = 2;\n}\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    assert p.returncode == 2 and LOCATION.search(p.stderr), p.stderr
    # the spec file starts with its spec line, so `x = 1` is line 4
    assert "hint: a statement must end with ';' (is one missing at the end of line 4?)" in p.stderr


def test_two_init_blocks_are_an_error(tmp_path: Path) -> None:
    # today: the second init silently replaces the first
    body = "int<0..3> a;\ninit { a = 1; }\ninit { a = 2; }\nprocess p { }\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    assert p.returncode == 2, p.stdout
    assert LOCATION.search(p.stderr), p.stderr


def test_property_named_like_a_builtin_is_an_error(tmp_path: Path) -> None:
    # today: the invariant takes the place of the built-in deadlock property in the report
    body = "int<0..1> a;\nprocess p { a = 1; }\ninvariant deadlock: a == 0;\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    assert p.returncode == 2, p.stdout
    assert LOCATION.search(p.stderr), p.stderr


def test_int_function_without_return_is_an_error(tmp_path: Path) -> None:
    # today: f() silently returns 0
    body = "int<0..1> a;\nint<0..1> f() { a = 1; }\nprocess p { a = f(); }\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    assert p.returncode == 2, p.stdout
    assert LOCATION.search(p.stderr), p.stderr


def test_goto_into_an_atomic_block_is_an_error(tmp_path: Path) -> None:
    body = "int<0..2> a;\nprocess p { goto in; atomic { a = 2; in: a = 1; } }\nprocess q { a = 0; }\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    assert p.returncode == 2, p.stdout
    assert LOCATION.search(p.stderr), p.stderr


def test_leading_zero_is_not_silently_decimal(tmp_path: Path) -> None:
    # C reads 010 as 8; kverify reads it as 10 without a word
    body = "int<0..20> a;\nprocess p { a = 010; }\nfinal c_value: a == 8;\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    assert p.returncode in (0, 2), p.stdout


def test_empty_variant_name_is_a_usage_error(tmp_path: Path) -> None:
    p = kverify("check", str(spec(tmp_path, VIOLATING)), "--variant", "", cwd=tmp_path)
    assert p.returncode == 2, p.stdout


# ------------------------------------------------------------ messages without location or hint


def test_init_that_blocks_names_its_line(tmp_path: Path) -> None:
    body = "int<0..1> a;\ninit { await a == 1; }\nprocess p { a = 1; }\n"
    p = kverify("check", str(spec(tmp_path, body)), cwd=tmp_path)
    assert p.returncode == 2
    assert LOCATION.search(p.stderr), p.stderr  # today: "blocks at: (start)"


def test_non_utf8_spec_gives_line_and_hint(tmp_path: Path) -> None:
    path = tmp_path / "t.kvs"
    path.write_bytes(b'spec "t";\nint<0..1> \xe9a;\nprocess p { a = 1; }\n')
    p = kverify("check", str(path), cwd=tmp_path)
    assert p.returncode == 2
    assert "t.kvs:2:" in p.stderr and "hint:" in p.stderr, p.stderr


def test_directory_as_spec_is_not_called_missing(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    p = kverify("check", "specs", cwd=tmp_path)
    assert p.returncode == 2
    assert "no such" not in p.stderr, p.stderr


def test_syntax_hint_does_not_leak_grammar_names(tmp_path: Path) -> None:
    p = kverify("check", str(spec(tmp_path, "int<0..1> a;\nprocess p { do { a = 1; } while (a == 0); }\n")),
                cwd=tmp_path)  # fmt: skip
    assert p.returncode == 2
    assert "__anon" not in p.stderr, p.stderr


def test_unterminated_string_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.kvs"
    path.write_text('spec "t;\nint<0..1> a;\nprocess p { a = 1; }\n', encoding="utf-8")
    p = kverify("check", str(path), cwd=tmp_path)
    assert p.returncode == 2
    assert "expected a string" not in p.stderr, p.stderr  # it is one, just not closed


def test_nan_time_limit_is_not_called_negative(tmp_path: Path) -> None:
    p = kverify("check", str(spec(tmp_path, VIOLATING)), "--time-limit", "nan", cwd=tmp_path)
    assert p.returncode == 2
    assert "negative" not in p.stderr, p.stderr


# ------------------------------------------------------------ output paths and streams


def test_bad_output_path_is_reported_before_the_search(tmp_path: Path) -> None:
    # four counters 0..40 moved by daemons: millions of states, far beyond the time limit
    body = "int<0..40> a; int<0..40> b; int<0..40> c; int<0..40> d;\n"
    for v in "abcd":
        body += (f"daemon process m{v} {{ for (;;) {{ either {{ await {v} < 40; {v}++; }} "
                 f"or {{ await {v} > 0; {v}--; }} }} }}\n")  # fmt: skip
    body += "process p { a = 1; }\n"
    path = spec(tmp_path, body)
    for flag in ("--out", "--junit"):
        start = time.monotonic()
        p = kverify("check", str(path), "--time-limit", "12", flag, str(tmp_path / "no" / "x"),
                    cwd=tmp_path)  # fmt: skip
        assert p.returncode == 2
        assert time.monotonic() - start < 6, f"{flag}: the search ran before the path was checked"


def test_out_does_not_overwrite_the_spec(tmp_path: Path) -> None:
    path = spec(tmp_path, VIOLATING)
    before = path.read_text()
    p = kverify("check", str(path), "--out", str(path), cwd=tmp_path)
    assert path.read_text() == before, "the spec was overwritten by the report"
    assert p.returncode == 2


def test_json_to_stdout_is_parseable(tmp_path: Path) -> None:
    import json

    p = kverify("check", str(spec(tmp_path, VIOLATING)), "--json", "-", cwd=tmp_path)
    assert p.returncode == 1
    json.loads(p.stdout)  # today: the text table, then the JSON


def test_closed_stdout_is_no_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    path = spec(tmp_path, VIOLATING)
    p = subprocess.run(f'"{sys.executable}" -m kverify check "{path}" >&-', shell=True, cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    no_traceback(p)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_on_stdout_is_an_error(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "kverify", "check", str(spec(tmp_path, VIOLATING))],
                           cwd=tmp_path, env=env, stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=60, check=False)  # fmt: skip
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == 2


def _cex(tmp_path: Path) -> Path:
    itf = tmp_path / "cex.itf.json"
    p = kverify("check", str(spec(tmp_path, VIOLATING)), "--itf", str(itf), cwd=tmp_path)
    written = sorted(tmp_path.glob("cex*.json"))
    assert p.returncode == 1 and written, p.stdout
    return written[0]


def test_replay_into_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    itf = _cex(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for fmt in ("cpu", "text", "cpu", "text", "cpu"):
        p = subprocess.run(
            f'"{sys.executable}" -m kverify replay "{itf}" --format {fmt} | head -1',
            shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        no_traceback(p)


def test_replay_of_a_binary_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{\x00}\x00" + bytes(range(256)))
    p = kverify("replay", str(bad), cwd=tmp_path)
    no_traceback(p)
    assert p.returncode == 2


# ------------------------------------------------------------ Ctrl-C


def test_ctrl_c_during_startup_exits_3_without_traceback(tmp_path: Path) -> None:
    """Ctrl-C at any moment of start-up: no traceback, and exit 3 once kverify's code runs.
    (A signal that arrives before the interpreter has installed its handler kills the process
    by SIGINT, as with any program: that is no traceback either.)"""
    path = spec(tmp_path, VIOLATING)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    codes = []
    for delay in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "kverify", "check", str(path)], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        codes.append(proc.returncode)
        assert "Traceback" not in err, f"after {delay}s:\n{err[-1500:]}"
        assert proc.returncode in (0, 1, 3, -signal.SIGINT), f"after {delay}s: exit {proc.returncode}"
    assert 3 in codes, f"no interrupt landed during start-up: {codes}"


# ------------------------------------------------------------ prove


def test_prove_rejects_negative_timeout(tmp_path: Path) -> None:
    body = "int<0..2> a;\nprocess p { a = 1; }\ninvariant small: a <= 2;\n"
    p = kverify("prove", str(spec(tmp_path, body)), "--pdr", "--timeout", "-5", cwd=tmp_path)
    assert p.returncode == 2, p.stdout


def test_prove_on_a_bundled_spec_is_no_traceback(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    p = kverify("prove", "specs/queue_flush_cancel.kvs", "--bmc", "2", cwd=tmp_path, timeout=300)
    no_traceback(p)


def test_replay_from_elsewhere_names_the_spec_option(tmp_path: Path) -> None:
    spec(tmp_path, VIOLATING)
    assert kverify("check", "t.kvs", "--itf", "cex.itf.json", cwd=tmp_path).returncode == 1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cex.itf.json").rename(elsewhere / "cex.itf.json")
    p = kverify("replay", "cex.itf.json", cwd=elsewhere)
    assert p.returncode == 2 and "--spec" in p.stderr, p.stderr
    assert kverify("replay", "cex.itf.json", "--spec", "../t.kvs", cwd=elsewhere).returncode == 1
