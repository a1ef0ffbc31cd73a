"""IR expression trees and step operations.

Both the explicit engine (which compiles them to Python) and the symbolic engine (which encodes
them in z3) interpret exactly these nodes, so a step means one thing everywhere.

Locations are either a fixed slot or a dynamic one: ``bases[key - shift] + offset``, the form of
``p->field`` (``key`` a reference, ``shift`` 1 so that 0 is null) and of ``a[i]`` (``shift`` 0).
A key outside ``bases`` is a model error (null dereference or index out of bounds), reported with
a trace, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Static:
    """A slot known when the model is lowered."""

    slot: int


@dataclass(frozen=True)
class Dynamic:
    """A slot chosen at run time: ``bases[key - shift] + offset``."""

    bases: tuple[int, ...]
    key: Expr
    offset: int
    shift: int  # 1 for references (0 is null), 0 for array indices
    what: str  # the model text, for error messages: "work->worker", "a[i]"

    def candidates(self) -> frozenset[int]:
        return frozenset(b + self.offset for b in self.bases)


Loc = Static | Dynamic


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class Read:
    loc: Loc


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "!", "~"
    arg: Expr


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / % == != < <= > >= && || & | ^ << >>
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Ite:
    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True)
class Lookup:
    """``values[key - shift]`` from a table fixed at lowering time (embedded instances,
    container_of, arrays of instances).  A key outside the table, or a 0 entry when ``nonzero``,
    is a model error described by ``what``."""

    values: tuple[int, ...]
    key: Expr
    shift: int
    nonzero: bool
    what: str


@dataclass(frozen=True)
class ListHead:
    """A bounded list: ``capacity`` consecutive element slots starting at ``first``.

    Elements are references (1-based instance numbers); empty places hold 0 and sit at the end.
    """

    first: Loc
    capacity: int
    what: str


@dataclass(frozen=True)
class ListLen:
    head: ListHead


@dataclass(frozen=True)
class ListFirst:
    """The first element of a non-empty list (a model error when the list is empty)."""

    head: ListHead


@dataclass(frozen=True)
class ListNext:
    """The element after ``elem`` in the list ``node`` places it in, or 0 at the end."""

    table: NodeTable
    elem: Expr


Expr = Const | Read | Unary | Binary | Ite | Lookup | ListLen | ListFirst | ListNext


# --------------------------------------------------------------------------- list nodes


@dataclass(frozen=True)
class NodeTable:
    """Where the list nodes of one struct type live and which list heads can hold them.

    ``node_slots[r - 1]`` is the slot of the ``list_node`` field of instance ``r``; it holds 0
    (not on a list) or the 1-based number of the head in ``heads`` the instance is on.
    """

    node_slots: tuple[int, ...]
    heads: tuple[tuple[int, int], ...]  # (first slot, capacity) of every list head of the type
    type_name: str


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Guard:
    """The step is enabled only if ``cond`` holds here (awaits, branch choices)."""

    cond: Expr


@dataclass(frozen=True)
class Assign:
    """``loc = value``; a value outside ``lo..hi`` is a model error naming ``what``."""

    loc: Loc
    value: Expr
    lo: int
    hi: int
    what: str


@dataclass(frozen=True)
class Check:
    """A property checked inside a step: assert, warn_on, warn_on_once, ensures."""

    prop: str
    cond: Expr  # the property holds when cond is true
    message: str


@dataclass(frozen=True)
class Fail:
    """An unconditional model error (e.g. a lock released by a task that does not hold it)."""

    message: str


@dataclass(frozen=True)
class ListInsert:
    """Put ``elem`` on a list: ``where`` is ``head`` (after the head: kernel list_add),
    ``tail`` (before the head: list_add_tail), ``after`` / ``before`` another element ``pos``.

    A node already on a list, or a full list, is a model error (list corruption / bound too small).
    """

    table: NodeTable
    elem: Expr
    where: str
    head: ListHead | None
    pos: Expr | None


@dataclass(frozen=True)
class ListRemove:
    """``list_del_init``: take ``elem`` off whatever list it is on (no effect if on none)."""

    table: NodeTable
    elem: Expr


Op = Guard | Assign | Check | Fail | ListInsert | ListRemove


# --------------------------------------------------------------------------- helpers


def loc_reads(loc: Loc) -> frozenset[int]:
    """Slots read to find where a location is (the key of a dynamic location)."""
    if isinstance(loc, Dynamic):
        return expr_reads(loc.key)
    return frozenset()


def loc_slots(loc: Loc) -> frozenset[int]:
    """Every slot a location may denote."""
    if isinstance(loc, Static):
        return frozenset([loc.slot])
    return loc.candidates()


def head_slots(head: ListHead) -> frozenset[int]:
    return frozenset(s + k for s in loc_slots(head.first) for k in range(head.capacity))


def table_slots(table: NodeTable) -> frozenset[int]:
    slots = set(table.node_slots)
    for first, cap in table.heads:
        slots.update(range(first, first + cap))
    return frozenset(slots)


def expr_reads(e: Expr) -> frozenset[int]:
    """Every slot the evaluation of ``e`` may read."""
    if isinstance(e, Const):
        return frozenset()
    if isinstance(e, Read):
        return loc_slots(e.loc) | loc_reads(e.loc)
    if isinstance(e, Unary):
        return expr_reads(e.arg)
    if isinstance(e, Binary):
        return expr_reads(e.left) | expr_reads(e.right)
    if isinstance(e, Ite):
        return expr_reads(e.cond) | expr_reads(e.then) | expr_reads(e.other)
    if isinstance(e, Lookup):
        return expr_reads(e.key)
    if isinstance(e, (ListLen, ListFirst)):
        return head_slots(e.head) | loc_reads(e.head.first)
    if isinstance(e, ListNext):
        return table_slots(e.table) | expr_reads(e.elem)
    raise TypeError(f"not an expression: {e!r}")


def op_access(op: Op) -> tuple[frozenset[int], frozenset[int]]:
    """(reads, writes) of one operation; writes are also counted as reads where the op keeps
    part of the old value (list operations)."""
    if isinstance(op, (Guard, Check)):
        return expr_reads(op.cond), frozenset()
    if isinstance(op, Assign):
        return expr_reads(op.value) | loc_reads(op.loc), loc_slots(op.loc)
    if isinstance(op, Fail):
        return frozenset(), frozenset()
    if isinstance(op, ListInsert):
        touched = table_slots(op.table)
        extra = expr_reads(op.elem)
        if op.head is not None:
            touched |= head_slots(op.head)
            extra |= loc_reads(op.head.first)
        if op.pos is not None:
            extra |= expr_reads(op.pos)
        return touched | extra, touched
    if isinstance(op, ListRemove):
        touched = table_slots(op.table)
        return touched | expr_reads(op.elem), touched
    raise TypeError(f"not an operation: {op!r}")
