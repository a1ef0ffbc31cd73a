"""Export a transition system to Promela, for a second opinion from SPIN.

The export keeps kverify's steps exactly: the state is one global array ``s`` (the same slots),
each transition becomes one ``d_step`` of its process, guarded by ``s[pc] == from`` and the
step's guards (rewritten over the state before the step, through the locals the step assigns
first), and each process loops over its transitions until its pc is the end pc.  A daemon's
loop carries an ``end`` label, so a daemon blocked in it is a valid end state, as in kverify's
deadlock check.  The initial states are chosen by ``init``.

What is checked on the SPIN side: every ``assert``/``warn_on`` (as ``assert``), range overflow
of an assignment and list corruption or overflow (as ``assert``), deadlocks (SPIN's invalid end
states) and invariants (a never claim).  Null dereferences, bounds of dynamic accesses and
``final`` properties are kverify's own checks and are not exported; a transition SPIN cannot
express exactly (a guard that reads a slot a list operation or a dynamic write of the same step
changed) is refused with an error rather than approximated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kverify.errors import KverifyError
from kverify.ir import expr as ir
from kverify.ir.system import Transition, TransitionSystem

HEADER = """/* {name} (variant {variant}): exported by `kverify export --promela`.
 * One d_step per kverify step; the state is the array s[] (see the slot map at the end). */
"""


def _index(loc: ir.Loc, text: _Text) -> str:
    if isinstance(loc, ir.Static):
        return str(loc.slot)
    key = f"(({text.expr(loc.key)}) - {loc.shift})"
    return f"({_chain(key, [str(b) for b in loc.bases])} + {loc.offset})"


def _chain(key: str, values: list[str]) -> str:
    """``values[key]`` as nested conditional expressions (the last value for any other key;
    an empty table, which only a model error could read, gives 0)."""
    if not values:
        return "0"
    out = values[-1]
    for k in range(len(values) - 2, -1, -1):
        out = f"({key} == {k} -> {values[k]} : {out})"
    return out


@dataclass
class _Text:
    """Promela text of IR expressions; ``env`` maps a slot to its value earlier in the step."""

    env: dict[int, str] = field(default_factory=dict)

    def expr(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Const):
            return str(e.value)
        if isinstance(e, ir.Read):
            if isinstance(e.loc, ir.Static):
                return self.env.get(e.loc.slot, f"s[{e.loc.slot}]")
            if self.env and e.loc.candidates() & set(self.env):
                raise _Unsupported("a dynamic read of a slot the step wrote before its guard")
            return f"s[{_index(e.loc, self)}]"
        if isinstance(e, ir.Unary):
            return f"({'-' if e.op == '-' else '!' if e.op == '!' else '~'}{self.expr(e.arg)})"
        if isinstance(e, ir.Binary):
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
        if isinstance(e, ir.Ite):
            return f"({self.expr(e.cond)} -> {self.expr(e.then)} : {self.expr(e.other)})"
        if isinstance(e, ir.Lookup):
            key = f"(({self.expr(e.key)}) - {e.shift})"
            return _chain(key, [str(v) for v in e.values])
        if isinstance(e, ir.ListLen):
            return "(" + " + ".join(f"(s[{f}] != 0 -> 1 : 0)" for f in self._cells(e.head)) + ")"
        if isinstance(e, ir.ListFirst):
            return f"s[{_index(e.head.first, self)}]"
        raise _Unsupported(f"{type(e).__name__} expressions")

    def _cells(self, head: ir.ListHead) -> list[str]:
        first = _index(head.first, self)
        return [f"{first} + {k}" for k in range(head.capacity)]


class _Unsupported(Exception):
    pass


def _precondition(t: Transition) -> str:
    """The conjunction of the step's guards over the state before the step."""
    text = _Text()
    dirty: set[int] = set()
    parts: list[str] = []
    for op in t.ops:
        if isinstance(op, ir.Guard):
            if ir.expr_reads(op.cond) & dirty:
                raise _Unsupported("a guard that reads what a list operation of the step changed")
            parts.append(text.expr(op.cond))
        elif isinstance(op, ir.Assign):
            if isinstance(op.loc, ir.Static):
                text.env[op.loc.slot] = f"({text.expr(op.value)})"
            else:
                dirty |= ir.loc_slots(op.loc)
        elif isinstance(op, (ir.ListInsert, ir.ListRemove)):
            dirty |= ir.op_access(op)[1]
    return " && ".join(parts) if parts else "true"


def _body(t: Transition, system: TransitionSystem) -> list[str]:
    text = _Text()
    lines: list[str] = []
    for op in t.ops:
        if isinstance(op, ir.Guard):
            continue
        if isinstance(op, ir.Check):
            lines.append(f"assert({text.expr(op.cond)}) /* {op.prop} */")
        elif isinstance(op, ir.Fail):
            lines.append(f"assert(false) /* {op.message} */")
        elif isinstance(op, ir.Assign):
            lines.append(f"v_ = {text.expr(op.value)}")
            if op.lo > -(2**31) or op.hi < 2**31:
                lines.append(f"assert({op.lo} <= v_ && v_ <= {op.hi}) /* {op.what} in range */")
            lines.append(f"s[{_index(op.loc, text)}] = v_")
        elif isinstance(op, ir.ListRemove):
            lines.extend(_remove(op, text))
        elif isinstance(op, ir.ListInsert):
            lines.extend(_insert(op, text))
    lines.append(f"s[{system.processes[t.pid].pc_slot}] = {t.pc_to}")
    return lines


def _node_slot(table: ir.NodeTable, elem: str) -> str:
    return _chain(f"({elem} - 1)", [str(n) for n in table.node_slots])


def _head_case(table: ir.NodeTable, head_no: str, macro: str, extra: str) -> str:
    """An if over the heads of ``table``: ``macro(first, cap, extra)`` for head ``head_no``."""
    arms = " ".join(
        f":: {head_no} == {k + 1} -> {macro}({first}, {cap}{extra})"
        for k, (first, cap) in enumerate(table.heads)
    )
    return f"if {arms} fi"


def _remove(op: ir.ListRemove, text: _Text) -> list[str]:
    return [
        f"e_ = {text.expr(op.elem)}",
        f"n_ = {_node_slot(op.table, 'e_')}",
        "if :: s[n_] != 0 -> h_ = s[n_]; "
        + _head_case(op.table, "h_", "lremove", ", e_")
        + "; s[n_] = 0 :: else -> skip fi",
    ]


def _insert(op: ir.ListInsert, text: _Text) -> list[str]:
    lines = [
        f"e_ = {text.expr(op.elem)}",
        f"n_ = {_node_slot(op.table, 'e_')}",
        "assert(s[n_] == 0) /* list corruption: already on a list */",
    ]
    if op.head is not None:
        heads = [f"{first}" for first, _ in op.table.heads]
        first = _index(op.head.first, text)
        lines.append(f"f_ = {first}")
        lines.append("h_ = 0")
        for k, f in enumerate(heads):
            lines.append(f"if :: f_ == {f} -> h_ = {k + 1} :: else -> skip fi")
        where = "0" if op.where == "head" else "len_"
        lines.append(_head_case(op.table, "h_", "llen", ""))
        lines.append(_head_case(op.table, "h_", "linsert", f", {where}, e_"))
    else:
        assert op.pos is not None
        lines.append(f"p_ = {text.expr(op.pos)}")
        lines.append(f"q_ = {_node_slot(op.table, 'p_')}")
        lines.append("h_ = s[q_]")
        lines.append("assert(h_ != 0) /* list insertion next to a work on no list */")
        lines.append(_head_case(op.table, "h_", "lfind", ", p_"))
        where = "(i_ + 1)" if op.where == "after" else "i_"
        lines.append(_head_case(op.table, "h_", "llen", ""))
        lines.append(_head_case(op.table, "h_", "linsert", f", {where}, e_"))
    lines.append("s[n_] = h_")
    return lines


MACROS = """
hidden int v_, e_, n_, h_, f_, p_, q_, i_, j_, len_;

inline llen(f, c) {
    len_ = 0;
    do :: len_ < c && s[f + len_] != 0 -> len_++
       :: else -> break
    od
}
inline lfind(f, c, r) {
    i_ = 0;
    do :: i_ < c && s[f + i_] != r -> i_++
       :: else -> break
    od
}
inline lremove(f, c, r) {
    lfind(f, c, r);
    do :: i_ < c - 1 -> s[f + i_] = s[f + i_ + 1]; i_++
       :: else -> break
    od;
    s[f + c - 1] = 0
}
inline linsert(f, c, at, r) {
    llen(f, c);
    assert(len_ < c); /* list bound too small */
    j_ = c - 1;
    do :: j_ > at -> s[f + j_] = s[f + j_ - 1]; j_--
       :: else -> break
    od;
    s[f + at] = r
}
"""


def export_promela(system: TransitionSystem) -> str:
    """The Promela text of ``system`` (raises KverifyError for what SPIN cannot express)."""
    out = [HEADER.format(name=system.name, variant=system.variant)]
    out.append(f"int s[{len(system.layout.slots)}];")
    out.append(MACROS)
    for prop in system.properties:
        if prop.kind == "invariant" and prop.expr is not None:
            out.append(f"never {{ /* invariant {prop.name} */")
            out.append(f"    do :: ({_Text().expr(prop.expr)}) :: else -> break od")
            out.append("}")
    for p in system.processes:
        out.append(f"proctype P_{p.name}() {{")
        label = "end: " if p.daemon else ""
        out.append(f"    {label}do")
        out.append(f"    :: s[{p.pc_slot}] == {p.end_pc} -> break")
        for t in system.transitions:
            if t.pid != p.pid:
                continue
            try:
                pre = _precondition(t)
                body = _body(t, system)
            except _Unsupported as why:
                raise KverifyError(
                    f"cannot export step `{t.label}` ({t.source.file}:{t.source.line}) to Promela: {why}",
                    hint="the Promela export needs each step's guards to read the state before it",
                ) from None
            out.append(f"    :: d_step {{ s[{p.pc_slot}] == {t.pc_from} && {pre} -> /* {t.label} */")
            out.extend(f"        {line};" for line in body[:-1])
            out.append(f"        {body[-1]}")
            out.append("    }")
        out.append("    od")
        out.append("}")
    out.append("init {")
    out.append("    atomic {")
    choices = []
    for state in system.initial_states:
        assigns = "; ".join(f"s[{k}] = {v}" for k, v in enumerate(state) if v != 0) or "skip"
        choices.append(f"        :: {assigns}")
    out.append("        if")
    out.extend(choices)
    out.append("        fi;")
    out.extend(f"        run P_{p.name}();" for p in system.processes)
    out.append("    }")
    out.append("}")
    out.append("/* slots:")
    out.extend(f" * s[{slot.index}] {slot.name}" for slot in system.layout.slots)
    out.append(" */")
    return "\n".join(out) + "\n"
