"""The abstract syntax tree: frozen dataclasses, each carrying its source span.

Spans are excluded from equality, so two trees that say the same thing compare equal whatever
their layout in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """Where a node is: file, 1-based line and column, and the width of its first line."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int


NOSPAN = Span("<builtin>", 0, 0, 0, 0)


def _span() -> Span:
    return field(default=NOSPAN, compare=False, repr=False)  # type: ignore[return-value]


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class TypeRef:
    """A type as written: ``bool``, ``int``, ``int<0..3>``, ``kthread_work *``, ``list_head<T, 4>``."""

    kind: str  # bool | int | range | void | list_head | list_node | named
    name: str = ""
    lo: int = 0
    hi: int = 0
    capacity: Expr | None = None
    pointer: bool = False
    span: Span = _span()


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Num:
    value: int
    span: Span = _span()


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class Null:
    span: Span = _span()


@dataclass(frozen=True)
class Name:
    ident: str
    span: Span = _span()


@dataclass(frozen=True)
class Field:
    base: Expr
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Index:
    base: Expr
    index: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class UnaryOp:
    op: str  # ! - ~ & *
    arg: Expr
    span: Span = _span()


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Cond:
    cond: Expr
    then: Expr
    other: Expr
    span: Span = _span()


@dataclass(frozen=True)
class WarnExpr:
    """``warn_on(cond)`` used as an if condition: the WARN fires when cond holds."""

    kind: str  # warn_on | warn_on_once (lower case)
    cond: Expr
    name: str | None
    span: Span = _span()


Expr = Num | BoolLit | Null | Name | Field | Index | Call | UnaryOp | BinOp | Cond | WarnExpr


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class LocalDecl:
    type: TypeRef
    name: str
    dims: Expr | None
    init: Expr | None
    ghost: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Assign:
    target: Expr
    op: str  # = += -= |= &= ^=
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True)
class If:
    cond: Expr
    then: Stmt
    other: Stmt | None
    span: Span = _span()


@dataclass(frozen=True)
class While:
    cond: Expr
    body: Stmt
    span: Span = _span()


@dataclass(frozen=True)
class Goto:
    label: str
    span: Span = _span()


@dataclass(frozen=True)
class Break:
    span: Span = _span()


@dataclass(frozen=True)
class Continue:
    span: Span = _span()


@dataclass(frozen=True)
class Return:
    value: Expr | None
    span: Span = _span()


@dataclass(frozen=True)
class Atomic:
    body: Block
    span: Span = _span()


@dataclass(frozen=True)
class Await:
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Either:
    branches: tuple[Block, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Choose:
    target: Expr
    lo: Expr
    hi: Expr
    span: Span = _span()


@dataclass(frozen=True)
class AssertStmt:
    name: str | None
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Warn:
    kind: str  # warn_on | warn_on_once
    cond: Expr
    name: str | None
    span: Span = _span()


@dataclass(frozen=True)
class Labeled:
    label: str
    body: Stmt
    span: Span = _span()


@dataclass(frozen=True)
class Block:
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Empty:
    span: Span = _span()


@dataclass(frozen=True)
class Ref:
    """A statement carrying ``@LINE``: the kernel source line it stands for."""

    line: int
    body: Stmt
    span: Span = _span()


Stmt = (
    LocalDecl | Assign | ExprStmt | If | While | Goto | Break | Continue | Return | Atomic | Await
    | Either | Choose | AssertStmt | Warn | Labeled | Block | Empty | Ref
)  # fmt: skip


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Include:
    path: str
    span: Span = _span()


@dataclass(frozen=True)
class Use:
    path: str
    span: Span = _span()


@dataclass(frozen=True)
class Source:
    file: str
    span: Span = _span()


@dataclass(frozen=True)
class SpecName:
    title: str
    span: Span = _span()


@dataclass(frozen=True)
class EnumDecl:
    name: str
    members: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True)
class FieldDecl:
    type: TypeRef
    name: str
    dims: Expr | None
    ghost: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class StructDecl:
    name: str
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@dataclass(frozen=True)
class ConstDecl:
    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class GlobalDecl:
    type: TypeRef
    name: str
    dims: Expr | None
    init: Expr | None
    ghost: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Param:
    type: TypeRef
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class FuncDef:
    ret: TypeRef
    name: str
    params: tuple[Param, ...]
    body: Block
    kfile: str | None = None
    kline: int | None = None
    span: Span = _span()


@dataclass(frozen=True)
class VariantDecl:
    name: str
    description: str
    funcs: tuple[FuncDef, ...]
    span: Span = _span()


@dataclass(frozen=True)
class ProcessDecl:
    name: str
    body: Block
    daemon: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class InitDecl:
    body: Block
    span: Span = _span()


@dataclass(frozen=True)
class PropertyDecl:
    kind: str  # invariant | final
    name: str
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True)
class TemporalDecl:
    """``property NAME: always P; / eventually P; / always eventually P; / P ~> Q;``"""

    name: str
    kind: str  # always | eventually | always_eventually | leads_to
    p: Expr
    q: Expr | None
    span: Span = _span()


@dataclass(frozen=True)
class FairDecl:
    """``fair weak PROCESS;`` / ``fair strong PROCESS;`` / ``fair weak;`` (every process)."""

    kind: str  # weak | strong
    process: str | None
    span: Span = _span()


@dataclass(frozen=True)
class IgnoreDecl:
    """``ignore NAME;`` in a spec: the model's assert or WARN of that name is not checked."""

    prop: str
    span: Span = _span()


@dataclass(frozen=True)
class AllowDecl:
    what: str  # "deadlock"
    span: Span = _span()


Decl = (
    Include | Use | Source | SpecName | EnumDecl | StructDecl | ConstDecl | GlobalDecl | FuncDef
    | VariantDecl | ProcessDecl | InitDecl | PropertyDecl | TemporalDecl | FairDecl | AllowDecl | IgnoreDecl
)  # fmt: skip


@dataclass(frozen=True)
class Unit:
    """One parsed file."""

    file: str
    items: tuple[Decl, ...]
