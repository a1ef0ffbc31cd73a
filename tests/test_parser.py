"""The parser: every construct of the language to its AST, spans, and robustness on any text."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kverify.errors import KverifyError
from kverify.lang import ast, parse


def items(text: str) -> tuple[ast.Decl, ...]:
    return parse(text, "t.kvs").items


def body_of(stmts: str, decls: str = "") -> tuple[ast.Stmt, ...]:
    """The statements of ``process p { stmts }``."""
    unit = parse(f"{decls}\nprocess p {{ {stmts} }}", "t.kvs")
    proc = unit.items[-1]
    assert isinstance(proc, ast.ProcessDecl)
    return proc.body.body


def one_stmt(stmt: str) -> ast.Stmt:
    (s,) = body_of(stmt)
    return s


def expr_of(text: str) -> ast.Expr:
    s = one_stmt(f"x = {text};")
    assert isinstance(s, ast.Assign)
    return s.value


X = ast.Name("x")


# --------------------------------------------------------------------------- top level


def test_file_level_items() -> None:
    unit = parse(
        'spec "a title";\nuse "m.kvl";\ninclude "lib/locks.kvl";\nsource "kthread.c";\n',
        "f.kvs",
    )
    assert unit.file == "f.kvs"
    assert unit.items == (
        ast.SpecName("a title"),
        ast.Use("m.kvl"),
        ast.Include("lib/locks.kvl"),
        ast.Source("kthread.c"),
    )


def test_scalar_types() -> None:
    got = items("bool b; int i; int<0..3> r; int<-2..-1> n; void *q;")
    assert got[0] == ast.GlobalDecl(ast.TypeRef("bool"), "b", None, None)
    assert got[1] == ast.GlobalDecl(ast.TypeRef("int"), "i", None, None)
    assert got[2] == ast.GlobalDecl(ast.TypeRef("range", lo=0, hi=3), "r", None, None)
    assert got[3].type == ast.TypeRef("range", lo=-2, hi=-1)
    assert got[4].type == ast.TypeRef("void", pointer=True)


def test_enum_with_and_without_trailing_comma_and_semicolon() -> None:
    a, b = items("enum st { RUNNING, PARKED, DEAD, };\nenum two { A, B }")
    assert a == ast.EnumDecl("st", ("RUNNING", "PARKED", "DEAD"))
    assert b == ast.EnumDecl("two", ("A", "B"))


def test_struct_fields_pointers_arrays_lists_and_ghosts() -> None:
    (s,) = items(
        """struct kthread_worker {
               int<0..3> flags;
               struct task_struct *task;
               kthread_work *current_work;
               list_head<kthread_work, 4> work_list;
               list_node node;
               bool seen[3];
               ghost int<0..2> flushes;
           };"""
    )
    assert isinstance(s, ast.StructDecl) and s.name == "kthread_worker"
    f = {x.name: x for x in s.fields}
    assert list(f) == [
        "flags",
        "task",
        "current_work",
        "work_list",
        "node",
        "seen",
        "flushes",
    ]
    assert f["task"].type == ast.TypeRef("named", name="task_struct", pointer=True)
    assert f["current_work"].type == ast.TypeRef(
        "named", name="kthread_work", pointer=True
    )
    assert f["work_list"].type == ast.TypeRef(
        "list_head", name="kthread_work", capacity=ast.Num(4)
    )
    assert f["node"].type == ast.TypeRef("list_node")
    assert f["seen"].dims == ast.Num(3) and f["seen"].type == ast.TypeRef("bool")
    assert f["flushes"].ghost and not f["flags"].ghost


def test_list_head_capacity_may_be_a_constant_expression() -> None:
    (_, g) = items("const N = 2; list_head<work, N + 1> q;")
    assert g.type.capacity == ast.BinOp("+", ast.Name("N"), ast.Num(1))


def test_const_ghost_and_initialised_globals() -> None:
    c, g, h, a = items(
        "const N = 2 * 3; ghost bool done; int<0..9> x = 4; int<0..1> a[N];"
    )
    assert c == ast.ConstDecl("N", ast.BinOp("*", ast.Num(2), ast.Num(3)))
    assert g == ast.GlobalDecl(ast.TypeRef("bool"), "done", None, None, ghost=True)
    assert h.init == ast.Num(4)
    assert a.dims == ast.Name("N")


def test_function_with_kernel_reference_and_parameters() -> None:
    (f,) = items(
        "bool kthread_queue_work(struct kthread_worker *worker, kthread_work *work) @ kthread.c:843"
        " { return true; }"
    )
    assert isinstance(f, ast.FuncDef)
    assert f.ret == ast.TypeRef("bool")
    assert [p.name for p in f.params] == ["worker", "work"]
    assert f.params[0].type == ast.TypeRef("named", name="kthread_worker", pointer=True)
    assert (f.kfile, f.kline) == ("kthread.c", 843)
    assert f.body.body == (ast.Return(ast.BoolLit(True)),)


def test_function_without_reference_and_other_reference_files() -> None:
    f, g = items("void f() { }\nvoid g(int a) @ sched:7 { }")
    assert (f.kfile, f.kline, f.params) == (None, None, ())
    assert (g.kfile, g.kline) == ("sched", 7)


def test_variants_with_and_without_overrides() -> None:
    a, b = items(
        'variant v5.13 "kthread: prevent deadlock";\n'
        'variant fixed "the fix" { int f() { return 1; } void g() { } }'
    )
    assert a == ast.VariantDecl("v5.13", "kthread: prevent deadlock", ())
    assert b.name == "fixed" and [f.name for f in b.funcs] == ["f", "g"]


def test_processes_init_properties_and_allow() -> None:
    p, d, i, inv, fin, allow = items(
        "process cpu0 { x = 1; }\n daemon process timer { }\n init { x = 2; }\n"
        "invariant small: x < 3;\n final done: x == 1 && y;\n allow deadlock;"
    )
    assert p == ast.ProcessDecl(
        "cpu0", ast.Block((ast.Assign(X, "=", ast.Num(1)),)), False
    )
    assert d == ast.ProcessDecl("timer", ast.Block(()), True)
    assert i == ast.InitDecl(ast.Block((ast.Assign(X, "=", ast.Num(2)),)))
    assert inv == ast.PropertyDecl("invariant", "small", ast.BinOp("<", X, ast.Num(3)))
    assert fin.kind == "final" and fin.name == "done"
    assert fin.expr == ast.BinOp("&&", ast.BinOp("==", X, ast.Num(1)), ast.Name("y"))
    assert allow == ast.AllowDecl("deadlock")


# --------------------------------------------------------------------------- statements


def test_local_declarations() -> None:
    a, b, c = body_of("int<0..3> t = x; ghost bool g; kthread_work *w = null;")
    assert a == ast.LocalDecl(ast.TypeRef("range", lo=0, hi=3), "t", None, X)
    assert b == ast.LocalDecl(ast.TypeRef("bool"), "g", None, None, ghost=True)
    assert c.type.pointer and c.init == ast.Null()


def test_assignment_operators_and_increments() -> None:
    stmts = body_of("x = 1; x += 2; x -= 3; x |= 4; x &= 5; x ^= 6; x++; x--;")
    ops = [(s.op, s.value) for s in stmts]
    assert ops == [
        ("=", ast.Num(1)), ("+=", ast.Num(2)), ("-=", ast.Num(3)), ("|=", ast.Num(4)),
        ("&=", ast.Num(5)), ("^=", ast.Num(6)), ("+=", ast.Num(1)), ("-=", ast.Num(1)),
    ]  # fmt: skip
    assert all(s.target == X for s in stmts)


def test_places_fields_arrows_indexes_and_deref() -> None:
    (s,) = body_of("w->lists[i].n = (*p).f;")
    assert s.target == ast.Field(
        ast.Index(ast.Field(ast.Name("w"), "lists"), ast.Name("i")), "n"
    )
    assert s.value == ast.Field(ast.UnaryOp("*", ast.Name("p")), "f")


def test_call_statement_and_address_arguments() -> None:
    s = one_stmt("list_add_tail(&work->node, &worker->work_list);")
    assert s == ast.ExprStmt(
        ast.Call(
            "list_add_tail",
            (
                ast.UnaryOp("&", ast.Field(ast.Name("work"), "node")),
                ast.UnaryOp("&", ast.Field(ast.Name("worker"), "work_list")),
            ),
        )
    )
    assert one_stmt("f();") == ast.ExprStmt(ast.Call("f", ()))


def test_if_else_and_dangling_else() -> None:
    s = one_stmt("if (x) if (y) a = 1; else a = 2;")
    assert isinstance(s, ast.If) and s.other is None
    inner = s.then
    assert isinstance(inner, ast.If) and inner.other == ast.Assign(
        ast.Name("a"), "=", ast.Num(2)
    )
    s2 = one_stmt("if (x == 1) { a = 1; } else { a = 2; }")
    assert s2.cond == ast.BinOp("==", X, ast.Num(1))
    assert isinstance(s2.then, ast.Block) and isinstance(s2.other, ast.Block)


def test_loops_break_continue() -> None:
    w, f = body_of("while (x < 3) { x++; continue; } for (;;) { break; }")
    assert isinstance(w, ast.While) and w.cond == ast.BinOp("<", X, ast.Num(3))
    assert w.body.body[-1] == ast.Continue()
    assert f == ast.While(ast.BoolLit(True), ast.Block((ast.Break(),)))


def test_labels_and_goto() -> None:
    a, g = body_of("repeat: x = 1; goto repeat;")
    assert a == ast.Labeled("repeat", ast.Assign(X, "=", ast.Num(1)))
    assert g == ast.Goto("repeat")
    (out,) = body_of("out: ;")
    assert out == ast.Labeled("out", ast.Empty())


def test_return_with_and_without_value() -> None:
    (f,) = items("int f() { if (x) return; return x + 1; }")
    first, second = f.body.body
    assert first.then == ast.Return(None)
    assert second == ast.Return(ast.BinOp("+", X, ast.Num(1)))


def test_atomic_await_either_choose() -> None:
    a, e, c = body_of(
        "atomic { await l == 0; l = 1; } either { x = 1; } or { x = 2; } or { } choose x in 0..N;"
    )
    assert a == ast.Atomic(
        ast.Block(
            (
                ast.Await(ast.BinOp("==", ast.Name("l"), ast.Num(0))),
                ast.Assign(ast.Name("l"), "=", ast.Num(1)),
            )
        )
    )
    assert (
        isinstance(e, ast.Either)
        and len(e.branches) == 3
        and e.branches[2] == ast.Block(())
    )
    assert c == ast.Choose(X, ast.Num(0), ast.Name("N"))


def test_either_needs_at_least_one_or() -> None:
    with pytest.raises(KverifyError):
        parse("process p { either { x = 1; } }")


def test_assert_with_and_without_name() -> None:
    a, b = body_of("assert x == 1; assert once_only: !y;")
    assert a == ast.AssertStmt(None, ast.BinOp("==", X, ast.Num(1)))
    assert b == ast.AssertStmt("once_only", ast.UnaryOp("!", ast.Name("y")))


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("warn_on", "warn_on"),
        ("warn_on_once", "warn_on_once"),
        ("WARN_ON", "warn_on"),
        ("WARN_ON_ONCE", "warn_on_once"),
    ],
)
def test_warn_statements_all_spellings(word: str, kind: str) -> None:
    a, b = body_of(f"{word}(x != 0); {word}(!y) as my_warn;")
    assert a == ast.Warn(kind, ast.BinOp("!=", X, ast.Num(0)), None)
    assert b == ast.Warn(kind, ast.UnaryOp("!", ast.Name("y")), "my_warn")


def test_warn_as_if_condition() -> None:
    s = one_stmt(
        "if (WARN_ON_ONCE(w->worker != worker) as one_worker) goto fail; else x = 1;"
    )
    assert isinstance(s, ast.If)
    assert s.cond == ast.WarnExpr(
        "warn_on_once",
        ast.BinOp("!=", ast.Field(ast.Name("w"), "worker"), ast.Name("worker")),
        "one_worker",
    )
    assert s.then == ast.Goto("fail")
    s2 = one_stmt("if (warn_on(x)) x = 0;")
    assert s2.cond == ast.WarnExpr("warn_on", X, None)


def test_statement_line_references() -> None:
    a, b, c = body_of(
        "@1057 raw_spin_lock(&w->lock); @ 1060 if (x) goto out; out: @1080 x = 0;"
    )
    assert a == ast.Ref(
        1057,
        ast.ExprStmt(
            ast.Call(
                "raw_spin_lock", (ast.UnaryOp("&", ast.Field(ast.Name("w"), "lock")),)
            )
        ),
    )
    assert b.line == 1060 and isinstance(b.body, ast.If)
    assert c == ast.Labeled("out", ast.Ref(1080, ast.Assign(X, "=", ast.Num(0))))
    (f,) = items("void f() { @5 { x = 1; } }")
    assert f.body.body[0] == ast.Ref(5, ast.Block((ast.Assign(X, "=", ast.Num(1)),)))


def test_empty_statement_and_nested_blocks() -> None:
    assert body_of("; { { } }") == (ast.Empty(), ast.Block((ast.Block(()),)))


# --------------------------------------------------------------------------- expressions


def test_precedence_like_c() -> None:
    # a || b && c == d + e * f
    e = expr_of("a || b && c == d + e * f")
    n = ast.Name
    assert e == ast.BinOp(
        "||", n("a"),
        ast.BinOp("&&", n("b"),
                  ast.BinOp("==", n("c"), ast.BinOp("+", n("d"), ast.BinOp("*", n("e"), n("f"))))),
    )  # fmt: skip
    # bitwise: | below ^ below & below ==
    e = expr_of("a | b ^ c & d == 1")
    assert e == ast.BinOp(
        "|",
        n("a"),
        ast.BinOp(
            "^", n("b"), ast.BinOp("&", n("c"), ast.BinOp("==", n("d"), ast.Num(1)))
        ),
    )
    assert expr_of("1 << 2 + 3") == ast.BinOp(
        "<<", ast.Num(1), ast.BinOp("+", ast.Num(2), ast.Num(3))
    )
    assert expr_of("a < b == c >= d") == ast.BinOp(
        "==", ast.BinOp("<", n("a"), n("b")), ast.BinOp(">=", n("c"), n("d"))
    )


def test_left_associativity() -> None:
    assert expr_of("8 - 4 - 2") == ast.BinOp(
        "-", ast.BinOp("-", ast.Num(8), ast.Num(4)), ast.Num(2)
    )
    assert expr_of("8 / 4 % 3") == ast.BinOp(
        "%", ast.BinOp("/", ast.Num(8), ast.Num(4)), ast.Num(3)
    )


def test_unary_operators_and_negative_literals() -> None:
    assert expr_of("-3") == ast.Num(-3)
    assert expr_of("-y") == ast.UnaryOp("-", ast.Name("y"))
    assert expr_of("!~y") == ast.UnaryOp("!", ast.UnaryOp("~", ast.Name("y")))
    assert expr_of("&a.b") == ast.UnaryOp("&", ast.Field(ast.Name("a"), "b"))


def test_ternary_is_right_associative() -> None:
    n = ast.Name
    assert expr_of("a ? b : c ? d : e") == ast.Cond(
        n("a"), n("b"), ast.Cond(n("c"), n("d"), n("e"))
    )


def test_literals() -> None:
    assert expr_of("true") == ast.BoolLit(True)
    assert expr_of("false") == ast.BoolLit(False)
    assert expr_of("null") == ast.Null() == expr_of("NULL")
    assert expr_of("(((7)))") == ast.Num(7)
    assert expr_of("f(1, g(), h(x))") == ast.Call(
        "f", (ast.Num(1), ast.Call("g", ()), ast.Call("h", (X,)))
    )


def test_comments_are_ignored() -> None:
    a = parse("// c\nint x; /* block\n comment */ process p { x = 1; // tail\n }")
    b = parse("int x; process p { x = 1; }")
    assert a.items == b.items


def test_keywords_are_not_prefixes_of_names() -> None:
    got = items(
        "int iffy; int ghostly; int daemons; int nullable; int integer; int processes;"
    )
    assert [g.name for g in got] == [
        "iffy",
        "ghostly",
        "daemons",
        "nullable",
        "integer",
        "processes",
    ]
    (s,) = body_of("iffy = whiles;")
    assert s == ast.Assign(ast.Name("iffy"), "=", ast.Name("whiles"))


def test_names_may_start_with_warn_on() -> None:
    (s,) = body_of("warn_on_count = 1;")
    assert s == ast.Assign(ast.Name("warn_on_count"), "=", ast.Num(1))


# --------------------------------------------------------------------------- spans


def test_spans_point_at_the_source() -> None:
    text = "int x;\nprocess p {\n    x = 1;\n}\n"
    proc = parse(text, "s.kvs").items[1]
    stmt = proc.body.body[0]
    assert (stmt.span.file, stmt.span.line, stmt.span.col) == ("s.kvs", 3, 5)
    assert (proc.span.line, proc.span.col) == (2, 1)
    assert stmt.value.span.col == 9


def test_ast_equality_ignores_layout() -> None:
    compact = (
        'spec "s";enum e{A,B};struct s{int<0..3> f;list_node n;};s v;const K=2;'
        "int f(s *p)@kthread.c:9{@10 p->f=K;if(p->f==1)return 1;else return 0;}"
        "process a{int<0..1> r;r=f(&v);either{v.f=2;}or{choose v.f in 0..1;}}"
        "invariant i:v.f<3;"
    )
    spaced = (
        'spec "s";\n\nenum e {\n  A,\n  B\n};\n\nstruct s {\n    int<0..3> f;\n    list_node n;\n};\n'
        "s v;\nconst K = 2;\n\n// a function\nint f(s *p) @ kthread.c:9\n{\n    @10 p->f = K;\n"
        "    if (p->f == 1)\n        return 1;\n    else\n        return 0;\n}\n\n"
        "process a {\n    int<0..1> r;\n    r = f(&v);\n"
        "    either { v.f = 2; }\n    or { choose v.f in 0..1; }\n}\n"
        "invariant i: v.f < 3;\n"
    )
    a, b = parse(compact, "a.kvs"), parse(spaced, "b.kvs")
    assert a.items == b.items
    assert a.items[4].span != b.items[4].span  # the spans themselves differ
    assert parse(compact.replace("p->f=K", "p->f=1"), "a.kvs").items != a.items


# --------------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    "text",
    [
        "int x",  # missing ;
        "process p { x = ; }",
        "process p { if x { } }",
        "int<3> x;",
        "struct { int a; };",
        "process { }",
        "process p { x = 1 }",
        "process p { goto; }",
        'variant "no name";',
        "int x; @",
        "include lib.kvl;",
        "process p { x = 1; ",
        "process p { x = $; }",
        "int x = 1 +;",
        "process p { choose x in 1; }",
        "process p { for (x;;) { } }",
    ],
)
def test_syntax_errors_are_kverify_errors_with_location(text: str) -> None:
    with pytest.raises(KverifyError) as info:
        parse(text, "bad.kvs")
    rendered = info.value.render()
    assert re.match(r"bad\.kvs:\d+:\d+: error: syntax error", rendered)
    assert "^" in rendered


def test_syntax_error_location_and_hint() -> None:
    text = "int x;\nprocess p {\n  x = 1\n}\n"
    with pytest.raises(KverifyError) as info:
        parse(text, "m.kvs")
    err = info.value
    assert err.location is not None
    assert (err.location.line, err.location.col) == (4, 1)
    assert "';'" in err.hint


def test_unexpected_end_of_file() -> None:
    with pytest.raises(KverifyError) as info:
        parse("process p {\n  x = 1;\n", "m.kvs")
    assert "end of file" in info.value.message
    assert info.value.location is not None and info.value.location.line == 2


def test_early_end_of_file_is_still_located() -> None:
    with pytest.raises(KverifyError) as info:
        parse("process p {\n  x = 1;\n", "m.kvs")
    assert info.value.location is not None and info.value.location.line == 2


def test_syntax_hints_name_only_real_tokens() -> None:
    with pytest.raises(KverifyError) as info:
        parse("process p {\n  x = 1;\n", "m.kvs")
    assert "__anon" not in info.value.hint.lower()


# --------------------------------------------------------------------------- robustness

ALPHABET = "abcxyzAZ_019 \n\t{}()[]<>;:,.=!&|^~+-*/%?\"@#'\\"

TOKENS = [
    "int", "bool", "void", "int<0..3>", "list_head<w, 2>", "list_node", "struct", "enum", "const",
    "ghost", "process", "daemon", "init", "invariant", "final", "allow", "deadlock", "variant",
    "v5.13", "spec", "use", "include", "source", '"s.kvl"', "if", "else", "while", "for", "goto",
    "break", "continue", "return", "atomic", "await", "either", "or", "choose", "in", "..",
    "assert", "warn_on", "WARN_ON_ONCE", "as", "true", "false", "null", "x", "y", "p", "f", "0",
    "1", "42", "@", "@12", "kthread.c", ":", ";", ",", "{", "}", "(", ")", "[", "]", "<", ">",
    "=", "==", "!=", "+=", "++", "--", "+", "-", "*", "/", "%", "&", "&&", "|", "||", "^", "!",
    "~", "?", "->", ".", "<<", ">>", "//", "/*", "*/",
]  # fmt: skip


def _parse_or_kverify_error(text: str) -> None:
    try:
        parse(text, "fuzz.kvs")
    except KverifyError as err:
        rendered = err.render()
        assert "error" in rendered


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_random_text_never_crashes_the_parser(text: str) -> None:
    _parse_or_kverify_error(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_token_sequences_never_crash_the_parser(tokens: list[str]) -> None:
    _parse_or_kverify_error(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_random_statements_inside_a_process_never_crash(tokens: list[str]) -> None:
    _parse_or_kverify_error("int x; process p { " + " ".join(tokens) + " }")


def test_do_while_gets_a_hint_to_rewrite_it() -> None:
    with pytest.raises(KverifyError) as info:
        parse("process p {\n  do { x = 1; } while (x == 0);\n}\n", "m.kvs")
    assert "do-while" in info.value.hint
    assert info.value.location is not None and info.value.location.line == 2
