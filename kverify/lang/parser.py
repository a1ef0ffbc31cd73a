"""Text to AST: the lark grammar (shipped as package data) and a transformer to ast nodes."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, cast

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from kverify.errors import KverifyError, Location
from kverify.lang import ast

_TOKEN_WORDS = {
    "SEMICOLON": "';'", "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "COLON": "':'", "NAME": "a name",
    "INT": "a number", "STRING": "a string", "EQUAL": "'='", "ASSIGN_OP": "'='",
    "MORETHAN": "'>'", "LESSTHAN": "'<'", "DOT": "'.'", "STAR": "'*'", "$END": "end of file",
    "WARN": "WARN_ON", "VERSION": "a version (v5.13)",
}  # fmt: skip


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("kverify.lang").joinpath("grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def line_of(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _token_word(name: str) -> str:
    """How a hint names a terminal: a word for named ones, the text of anonymous ones."""
    if name in _TOKEN_WORDS:
        return _TOKEN_WORDS[name]
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        pattern = None
    if pattern is not None and pattern.type == "str":
        return repr(pattern.value)  # a keyword or punctuation: its text ('&', '!', 'either')
    if name.upper().startswith("__ANON"):
        return ""
    return name.lower() if name.isupper() else repr(name)


def _describe_expected(expected: set[str]) -> str:
    words = sorted({w for w in map(_token_word, expected) if w})
    if len(words) > 8:
        words = [*words[:8], "..."]
    return ", ".join(words)


def _syntax_error(err: UnexpectedInput, file: str, text: str) -> KverifyError:
    line, col = getattr(err, "line", 0) or 0, getattr(err, "column", 0) or 0
    at_end = isinstance(err, UnexpectedToken) and err.token.type == "$END"
    if isinstance(err, UnexpectedEOF) or line <= 0 or at_end:
        lines = text.splitlines() or [""]
        line, col = len(lines), len(lines[-1]) + 1
        message = "unexpected end of file"
    elif isinstance(err, UnexpectedToken):
        message = f"unexpected {err.token.value!r}" if err.token.value else "unexpected token"
    elif isinstance(err, UnexpectedCharacters):
        pos = cast(int, err.pos_in_stream)  # lark declares it None on the base class; the lexer sets it
        char = text[pos]
        rest = text[pos + 1 :].split("\n", 1)[0]
        if char == '"' and '"' not in rest:
            loc = Location(file, line, col, line_of(text, line))
            return KverifyError("syntax error: unterminated string", loc, 'close it with " on the same line')
        message = f"unexpected character {char!r}"
    else:
        message = "syntax error"
    expected = getattr(err, "expected", None) or getattr(err, "allowed", None) or set()
    hint = f"expected {_describe_expected(set(expected))}" if expected else ""
    before = text[: err.token.start_pos or 0] if isinstance(err, UnexpectedToken) else ""
    if isinstance(err, UnexpectedToken) and "SEMICOLON" in expected:
        previous = before.rstrip(" \t")
        if err.token.type == "RBRACE":
            hint = "a statement must end with ';'"
        elif previous.endswith("\n") and not previous.rstrip().endswith((";", "{", "}")):
            end = previous.rstrip().count("\n") + 1
            hint = f"a statement must end with ';' (is one missing at the end of line {end}?)"
    if re.search(r"\bdo\s*$", before):
        hint = "there is no do-while; write: for (;;) { ...; if (!(COND)) break; }"
    if re.search(r"\bfor\s*\(\s*;?\s*$", before):
        hint = (
            "the only for loop is for (;;); write a counting loop as: "
            "i = 0; while (i < N) { ...; i++; }"
        )
    loc = Location(file, line, col, line_of(text, line))
    return KverifyError(f"syntax error: {message}", loc, hint)


def _span(file: str, meta: Any) -> ast.Span:
    if getattr(meta, "empty", True):
        return ast.NOSPAN
    return ast.Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(file: str, tok: Token) -> ast.Span:
    return ast.Span(file, tok.line or 0, tok.column or 0, tok.end_line or 0, tok.end_column or 0)


def _unquote(tok: Token) -> str:
    return str(tok)[1:-1]


_BINARY_ALIASES = {
    "op_eq": "==", "op_ne": "!=", "op_lt": "<", "op_le": "<=", "op_gt": ">", "op_ge": ">=",
    "op_shl": "<<", "op_shr": ">>", "op_add": "+", "op_sub": "-", "op_mul": "*", "op_div": "/",
    "op_mod": "%",
}  # fmt: skip


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """Builds ast nodes; each method gets the rule's meta (for the span) and its children."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    def s(self, meta: Any) -> ast.Span:
        return _span(self.file, meta)

    # ---- declarations
    def start(self, meta: Any, items: list[Any]) -> ast.Unit:
        return ast.Unit(self.file, tuple(items))

    def include(self, meta: Any, c: list[Any]) -> ast.Include:
        return ast.Include(_unquote(c[0]), self.s(meta))

    def use(self, meta: Any, c: list[Any]) -> ast.Use:
        return ast.Use(_unquote(c[0]), self.s(meta))

    def source(self, meta: Any, c: list[Any]) -> ast.Source:
        return ast.Source(_unquote(c[0]), self.s(meta))

    def spec_decl(self, meta: Any, c: list[Any]) -> ast.SpecName:
        return ast.SpecName(_unquote(c[0]), self.s(meta))

    def enum_decl(self, meta: Any, c: list[Any]) -> ast.EnumDecl:
        return ast.EnumDecl(str(c[0]), tuple(str(x) for x in c[1:]), self.s(meta))

    def struct_decl(self, meta: Any, c: list[Any]) -> ast.StructDecl:
        return ast.StructDecl(str(c[0]), tuple(c[1:]), self.s(meta))

    def _ghost(self, c: list[Any]) -> tuple[bool, list[Any]]:
        return c[0] is not None, c[1:]

    def field(self, meta: Any, c: list[Any]) -> ast.FieldDecl:
        ghost, c = self._ghost(c)
        return ast.FieldDecl(c[0], str(c[1]), c[2], ghost, self.s(meta))

    def dims(self, meta: Any, c: list[Any]) -> Any:
        return c[0] if c else None

    def const_decl(self, meta: Any, c: list[Any]) -> ast.ConstDecl:
        return ast.ConstDecl(str(c[0]), c[1], self.s(meta))

    def global_decl(self, meta: Any, c: list[Any]) -> ast.GlobalDecl:
        ghost, c = self._ghost(c)
        return ast.GlobalDecl(c[0], str(c[1]), c[2], c[3], ghost, self.s(meta))

    def param(self, meta: Any, c: list[Any]) -> ast.Param:
        return ast.Param(c[0], str(c[1]), self.s(meta))

    def kref(self, meta: Any, c: list[Any]) -> tuple[str, int]:
        return str(c[0]), int(c[1])

    def kref_file(self, meta: Any, c: list[Any]) -> tuple[str, int]:
        return f"{c[0]}.{c[1]}", int(c[2])

    def func_def(self, meta: Any, c: list[Any]) -> ast.FuncDef:
        ret, name, *rest = c
        body = rest[-1]
        kref = rest[-2] if len(rest) >= 2 and isinstance(rest[-2], tuple) else None
        params = tuple(p for p in rest[:-1] if isinstance(p, ast.Param))
        kfile, kline = kref if kref else (None, None)
        return ast.FuncDef(ret, str(name), params, body, kfile, kline, self.s(meta))

    def vname(self, meta: Any, c: list[Any]) -> str:
        return str(c[0])

    def variant_only(self, meta: Any, c: list[Any]) -> ast.VariantDecl:
        return ast.VariantDecl(c[0], _unquote(c[1]), (), self.s(meta))

    def variant_decl(self, meta: Any, c: list[Any]) -> ast.VariantDecl:
        return ast.VariantDecl(c[0], _unquote(c[1]), tuple(c[2:]), self.s(meta))

    def process_decl(self, meta: Any, c: list[Any]) -> ast.ProcessDecl:
        daemon = c[0] is not None
        return ast.ProcessDecl(str(c[1]), c[2], daemon, self.s(meta))

    def init_decl(self, meta: Any, c: list[Any]) -> ast.InitDecl:
        return ast.InitDecl(c[0], self.s(meta))

    def invariant_decl(self, meta: Any, c: list[Any]) -> ast.PropertyDecl:
        return ast.PropertyDecl("invariant", str(c[0]), c[1], self.s(meta))

    def final_decl(self, meta: Any, c: list[Any]) -> ast.PropertyDecl:
        return ast.PropertyDecl("final", str(c[0]), c[1], self.s(meta))

    def temporal_decl(self, meta: Any, c: list[Any]) -> ast.TemporalDecl:
        kind, p, q = c[1]
        return ast.TemporalDecl(str(c[0]), kind, p, q, self.s(meta))

    def t_always_eventually(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("always_eventually", c[0], None)

    def t_eventually(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("eventually", c[0], None)

    def t_always(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("always", c[0], None)

    def t_leads_to(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("leads_to", c[0], c[1])

    def fair_decl(self, meta: Any, c: list[Any]) -> ast.FairDecl:
        return ast.FairDecl(str(c[0]), str(c[1]) if c[1] is not None else None, self.s(meta))

    def ignore_decl(self, meta: Any, c: list[Any]) -> ast.IgnoreDecl:
        return ast.IgnoreDecl(str(c[0]), self.s(meta))

    def allow_decl(self, meta: Any, c: list[Any]) -> ast.AllowDecl:
        return ast.AllowDecl(str(c[0]), self.s(meta))

    # ---- types
    def bool_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef("bool", span=self.s(meta))

    def int_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef("int", span=self.s(meta))

    def signed(self, meta: Any, c: list[Any]) -> int:
        return self._int(c[0])

    def negint(self, meta: Any, c: list[Any]) -> int:
        return -self._int(c[0])

    def range_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef("range", lo=c[0], hi=c[1], span=self.s(meta))

    def void_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef("void", span=self.s(meta))

    def list_head_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef("list_head", name=str(c[0]), capacity=c[1], span=self.s(meta))

    def list_node_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef("list_node", span=self.s(meta))

    def named_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef("named", name=str(c[-1]), span=self.s(meta))

    def pointer_type(self, meta: Any, c: list[Any]) -> ast.TypeRef:
        t: ast.TypeRef = c[0]
        return ast.TypeRef(t.kind, t.name, t.lo, t.hi, t.capacity, True, self.s(meta))

    # ---- statements
    def block(self, meta: Any, c: list[Any]) -> ast.Block:
        return ast.Block(tuple(c), self.s(meta))

    def stmt(self, meta: Any, c: list[Any]) -> Any:
        ref, body = c
        if ref is None:
            return body
        return ast.Ref(ref, body, self.s(meta))

    def lineref(self, meta: Any, c: list[Any]) -> int:
        return int(c[0])

    def local_decl(self, meta: Any, c: list[Any]) -> ast.LocalDecl:
        ghost, c = self._ghost(c)
        return ast.LocalDecl(c[0], str(c[1]), c[2], c[3], ghost, self.s(meta))

    def assign(self, meta: Any, c: list[Any]) -> ast.Assign:
        return ast.Assign(c[0], str(c[1]), c[2], self.s(meta))

    def incdec(self, meta: Any, c: list[Any]) -> ast.Assign:
        op = "+=" if str(c[1]) == "++" else "-="
        return ast.Assign(c[0], op, ast.Num(1, self.s(meta)), self.s(meta))

    def expr_stmt(self, meta: Any, c: list[Any]) -> ast.ExprStmt:
        return ast.ExprStmt(c[0], self.s(meta))

    def if_stmt(self, meta: Any, c: list[Any]) -> ast.If:
        return ast.If(c[0], c[1], c[2], self.s(meta))

    def while_stmt(self, meta: Any, c: list[Any]) -> ast.While:
        return ast.While(c[0], c[1], self.s(meta))

    def for_stmt(self, meta: Any, c: list[Any]) -> ast.While:
        return ast.While(ast.BoolLit(True, self.s(meta)), c[0], self.s(meta))

    def goto_stmt(self, meta: Any, c: list[Any]) -> ast.Goto:
        return ast.Goto(str(c[0]), self.s(meta))

    def break_stmt(self, meta: Any, c: list[Any]) -> ast.Break:
        return ast.Break(self.s(meta))

    def continue_stmt(self, meta: Any, c: list[Any]) -> ast.Continue:
        return ast.Continue(self.s(meta))

    def return_stmt(self, meta: Any, c: list[Any]) -> ast.Return:
        return ast.Return(c[0], self.s(meta))

    def atomic_stmt(self, meta: Any, c: list[Any]) -> ast.Atomic:
        return ast.Atomic(c[0], self.s(meta))

    def await_stmt(self, meta: Any, c: list[Any]) -> ast.Await:
        return ast.Await(c[0], self.s(meta))

    def either_stmt(self, meta: Any, c: list[Any]) -> ast.Either:
        return ast.Either(tuple(c), self.s(meta))

    def choose_stmt(self, meta: Any, c: list[Any]) -> ast.Choose:
        return ast.Choose(c[0], c[1], c[2], self.s(meta))

    def assert_stmt(self, meta: Any, c: list[Any]) -> ast.AssertStmt:
        return ast.AssertStmt(None if c[0] is None else str(c[0]), c[1], self.s(meta))

    def warn_stmt(self, meta: Any, c: list[Any]) -> ast.Warn:
        name = None if c[2] is None else str(c[2])
        return ast.Warn(str(c[0]).lower(), c[1], name, self.s(meta))

    def warn_cond(self, meta: Any, c: list[Any]) -> ast.WarnExpr:
        name = None if c[2] is None else str(c[2])
        return ast.WarnExpr(str(c[0]).lower(), c[1], name, self.s(meta))

    def labeled_stmt(self, meta: Any, c: list[Any]) -> ast.Labeled:
        return ast.Labeled(str(c[0]), c[1], self.s(meta))

    def empty_stmt(self, meta: Any, c: list[Any]) -> ast.Empty:
        return ast.Empty(self.s(meta))

    # ---- expressions
    def ite(self, meta: Any, c: list[Any]) -> ast.Cond:
        return ast.Cond(c[0], c[1], c[2], self.s(meta))

    def _bin(self, op: str, meta: Any, c: list[Any]) -> ast.BinOp:
        return ast.BinOp(op, c[0], c[-1], self.s(meta))

    def lor(self, meta: Any, c: list[Any]) -> ast.BinOp:
        return self._bin("||", meta, c)

    def land(self, meta: Any, c: list[Any]) -> ast.BinOp:
        return self._bin("&&", meta, c)

    def binop_or(self, meta: Any, c: list[Any]) -> ast.BinOp:
        return self._bin("|", meta, c)

    def binop_xor(self, meta: Any, c: list[Any]) -> ast.BinOp:
        return self._bin("^", meta, c)

    def binop_and(self, meta: Any, c: list[Any]) -> ast.BinOp:
        return self._bin("&", meta, c)

    def assign_op(self, meta: Any, c: list[Any]) -> str:
        return str(c[0])

    def incdec_op(self, meta: Any, c: list[Any]) -> str:
        return str(c[0])

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:
        op = _BINARY_ALIASES.get(str(data))
        if op is None:
            return super().__default__(data, children, meta)
        return ast.BinOp(op, children[0], children[-1], self.s(meta))

    def _un(self, op: str, meta: Any, c: list[Any]) -> ast.UnaryOp:
        return ast.UnaryOp(op, c[0], self.s(meta))

    def not_(self, meta: Any, c: list[Any]) -> ast.UnaryOp:
        return self._un("!", meta, c)

    def neg(self, meta: Any, c: list[Any]) -> Any:
        if isinstance(c[0], ast.Num):
            return ast.Num(-c[0].value, self.s(meta))
        return self._un("-", meta, c)

    def inv(self, meta: Any, c: list[Any]) -> ast.UnaryOp:
        return self._un("~", meta, c)

    def addr(self, meta: Any, c: list[Any]) -> ast.UnaryOp:
        return self._un("&", meta, c)

    def deref(self, meta: Any, c: list[Any]) -> ast.UnaryOp:
        return self._un("*", meta, c)

    def member(self, meta: Any, c: list[Any]) -> ast.Field:
        return ast.Field(c[0], str(c[1]), self.s(meta))

    def index(self, meta: Any, c: list[Any]) -> ast.Index:
        return ast.Index(c[0], c[1], self.s(meta))

    def call(self, meta: Any, c: list[Any]) -> ast.Call:
        args = tuple(a for a in c[1:] if a is not None)
        return ast.Call(str(c[0]), args, self.s(meta))

    def _int(self, tok: Token) -> int:
        """An integer literal; more digits than any bounded int of a model is a user mistake."""
        if len(str(tok)) > 1 and str(tok).startswith("0"):
            loc = Location(self.file, tok.line or 0, tok.column or 0, "", len(str(tok)))
            raise KverifyError(f"a number with a leading zero: {tok}", loc,
                               "C would read it as octal; kverify has decimal numbers only: drop the 0")
        if len(str(tok)) > 10:
            loc = Location(self.file, tok.line or 0, tok.column or 0, "", len(str(tok)))
            raise KverifyError(f"number too large: {str(tok)[:20]}...", loc,
                               "bounded integers of a model fit in 32 bits")
        return int(tok)

    def number(self, meta: Any, c: list[Any]) -> ast.Num:
        return ast.Num(self._int(c[0]), self.s(meta))

    def true_(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(True, self.s(meta))

    def false_(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(False, self.s(meta))

    def null(self, meta: Any, c: list[Any]) -> ast.Null:
        return ast.Null(self.s(meta))

    def name(self, meta: Any, c: list[Any]) -> ast.Name:
        return ast.Name(str(c[0]), self.s(meta))


def parse(text: str, file: str = "<input>") -> ast.Unit:
    """Parse a model or spec; a syntax error raises KverifyError with file:line:col and a hint."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, file, text) from None
    try:
        unit: ast.Unit = _ToAst(file).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, KverifyError):
            loc = err.orig_exc.location
            if loc is not None and not loc.text:
                loc.text = line_of(text, loc.line)
            raise err.orig_exc from None
        raise
    return unit


__all__ = ["Tree", "line_of", "parse"]
