"""Lowering of statements and expressions: one process body, every call inlined, to a graph."""

from __future__ import annotations

from collections.abc import Iterator

from kverify.errors import KverifyError
from kverify.ir import expr as ir
from kverify.ir.cfg import Graph, Node
from kverify.ir.system import KernelRef, Property, SourceRef
from kverify.lang import ast
from kverify.lang.lower import (
    DEFAULT_KERNEL_FILE,
    Array,
    Frame,
    Head,
    Inst,
    Lowering,
    NodeField,
    Place,
    Scalar,
)
from kverify.lang.types import BOOL, INT, VOID, Type, compatible, ref_to

_ARITH = {"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}
_BUILTINS = {
    "list_add", "list_add_tail", "list_del_init", "list_empty", "list_first_entry",
    "list_next_entry", "container_of", "xchg",
}  # fmt: skip


_PURE_BUILTINS = {"list_empty", "list_first_entry", "list_next_entry", "container_of"}


def _not(e: ir.Expr) -> ir.Expr:
    return ir.Unary("!", e)


class Body:
    """Lowers one process (or the init block, or a property expression) into a Graph."""

    def __init__(self, low: Lowering, pid: int | None, pname: str, task: int | None) -> None:
        self.low = low
        self.pid = pid
        self.pname = pname
        self.task = task  # instance number ``current`` denotes
        self.g = Graph()
        self.cur: Node | None = self.g.add("action", label="", source=SourceRef("<builtin>", 0, 0))
        self.frames: list[Frame] = []
        self.local_slots: set[int] = set()
        self.kernel: KernelRef | None = None
        self.label_override: str | None = None
        self.stmt_span: ast.Span = ast.NOSPAN
        self.temps: list[int] = []
        self.atomic: int | None = None
        self.instances: dict[str, int] = {}
        self.pool: dict[Type, list[int]] = {}  # free local slots, by type, for the next call

    # ------------------------------------------------------------------ graph building

    def _node(
        self, kind: str, ops: list[ir.Op], label: str | None = None, span: ast.Span | None = None
    ) -> Node:
        span = span or self.stmt_span
        text = self.label_override or (label if label is not None else self.low.text(span))
        node = self.g.add(
            kind,
            ops=list(ops),
            label=text,
            source=SourceRef(span.file, span.line, span.col),
            kernel=self.kernel,
            stack=tuple(f.name for f in self.frames[1:] if not f.library),
            atomic=self.atomic,
            location=self.low.loc(span),
        )
        return node

    def link(self, a: Node | None, b: Node) -> None:
        if a is not None:
            a.succ.append(b.nid)

    def emit(
        self, ops: list[ir.Op], label: str | None = None, span: ast.Span | None = None, is_await: bool = False
    ) -> Node:
        node = self._node("action", ops, label, span)
        node.is_await = is_await
        self.link(self.cur, node)
        self.cur = node
        return node

    def nop(self) -> Node:
        return self._node("action", [], "")

    def join(self, node: Node) -> None:
        self.link(self.cur, node)
        self.cur = node

    # ------------------------------------------------------------------ scopes

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def lookup(self, name: str, span: ast.Span) -> Place | ir.Expr:
        for frame in self.frames[-1:] if self.frames else []:
            for scope in reversed(frame.scopes):
                if name in scope:
                    return scope[name]
        if name in self.low.globals:
            return self.low.globals[name]
        if name in self.low.consts:
            return ir.Const(self.low.consts[name])
        if name in self.low.members:
            return ir.Const(self.low.members[name][1])
        if name in self.low.process_tasks:
            return Inst("task_struct", ir.Const(self.low.process_tasks[name]), name)
        if name == "current":
            if self.task is None:
                raise self.low.error(
                    "'current' has no task here",
                    span,
                    "only process code runs on a task (declare struct task_struct)",
                )
            return Inst("task_struct", ir.Const(self.task), "current")
        raise self.low.error(f"unknown name {name!r}", span, self._suggest(name))

    def _suggest(self, name: str) -> str:
        import difflib

        names = list(self.low.globals) + list(self.low.consts) + list(self.low.members)
        for frame in self.frames[-1:]:
            for scope in frame.scopes:
                names += list(scope)
        close = difflib.get_close_matches(name, names, n=1)
        return f"did you mean {close[0]!r}?" if close else "declare it first"

    def declare_local(self, name: str, t: Type, ghost: bool, span: ast.Span) -> Place:
        scope = self.frame.scopes[-1]
        if name in scope:
            raise self.low.error(f"{name!r} is already declared in this scope", span)
        count = self.instances.get(f"{self.frame.name}.{name}", 0)
        self.instances[f"{self.frame.name}.{name}"] = count + 1
        suffix = f"#{count + 1}" if count else ""
        fname = "" if len(self.frames) == 1 else f"{self.frame.name}."
        full = f"{self.pname}.{fname}{name}{suffix}"
        shared = t.kind in ("struct", "list_head") or (
            t.kind == "array" and t.elem is not None and t.elem.kind == "struct"
        )
        if t.scalar and len(self.frames) > 1 and self.pool.get(t):
            slot = self.pool[t].pop()
            self.frame.locals.append(slot)
            place = Scalar(ir.Static(slot), t, full)
            scope[name] = place
            return place
        before = len(self.low.slots)
        place = self.low.allocate(full, t, None if shared else self.pid, ghost, span)
        if not shared:
            new = range(before, len(self.low.slots))
            self.local_slots.update(new)
            self.frame.locals.extend(new)
            if len(self.frames) > 1:
                self._mark_local(new)
        scope[name] = place
        return place

    # ------------------------------------------------------------------ entry points

    def process(self, body: ast.Block, span: ast.Span) -> Graph:
        end = self.g.add("end", label="(end)", source=SourceRef(span.file, span.line, span.col))
        self.frames.append(Frame(self.pname, False, [{}], end, None, VOID))
        self.frame.kfile = self.low.sources.get(span.file, DEFAULT_KERNEL_FILE)
        self.kernel = None
        self.block(body)
        self.finish_frame()
        self.link(self.cur, end)
        self.cur = None
        return self.g

    def finish_frame(self) -> None:
        frame = self.frame
        for label, span, region in frame.gotos:
            if label not in frame.defined:
                raise self.low.error(
                    f"goto to an unknown label {label!r}", span, "labels are local to their function"
                )
            target = frame.defined[label]
            if target is not None and target != region:
                raise self.low.error(
                    f"goto into an atomic block: {label!r} is inside one, this goto is not",
                    span,
                    "an atomic block is entered only at its start; move the label or the block",
                )
        self.join(frame.exit)

    # ------------------------------------------------------------------ statements

    def block(self, b: ast.Block) -> None:
        self.frame.scopes.append({})
        for s in b.body:
            self.stmt(s)
        self.frame.scopes.pop()

    def stmt(self, s: ast.Stmt) -> None:
        saved_span, saved_kernel = self.stmt_span, self.kernel
        if not isinstance(s, (ast.Block, ast.Ref)):
            self.stmt_span = s.span
        if isinstance(s, ast.Ref):
            fn = self.kernel.function if self.kernel else self.frame.name
            self.kernel = KernelRef(self.frame.kfile, s.line, fn)
            self.stmt(s.body)
            self.kernel = saved_kernel
            return
        method = getattr(self, "stmt_" + type(s).__name__.lower())
        method(s)
        self.release_temps()
        self.stmt_span, self.kernel = saved_span, saved_kernel

    def _mark_local(self, slots: range | list[int]) -> None:
        """Locals of called functions are hidden from trace changes (their slots are reused)."""
        wanted = set(slots)
        for var in self.low.vars:
            if wanted.intersection(var.slots):
                var.kind = "local"

    def _free(self, slots: list[int]) -> None:
        """Give reset local slots back for the next call to reuse."""
        for k in slots:
            self.pool.setdefault(self.low.slots[k].type, []).append(k)

    def release_temps(self) -> None:
        if self.temps:
            ops: list[ir.Op] = [
                ir.Assign(ir.Static(t), ir.Const(self.low.slots[t].init), -(2**31), 2**31, "")
                for t in self.temps
            ]
            self.emit(ops, label="")
            self._free(self.temps)
            self.temps = []

    def stmt_block(self, s: ast.Block) -> None:
        self.block(s)

    def stmt_empty(self, s: ast.Empty) -> None:
        pass

    def stmt_localdecl(self, s: ast.LocalDecl) -> None:
        t = self.low.resolve_type(s.type, s.dims)
        if t.kind == "void":
            raise self.low.error("a variable cannot be void", s.span)
        init = self.value(s.init) if s.init is not None else None
        place = self.declare_local(s.name, t, s.ghost, s.span)
        if isinstance(place, Scalar):
            if init is not None:
                self.check_assign(place.type, init[1], s.span)
                self.emit([self.assign_op(place, init[0])])
            else:
                self.emit([self.assign_op(place, ir.Const(self.low.slots[self._slot(place)].init))], label="")
        elif init is not None:
            raise self.low.error("only scalar locals take an initializer", s.span)
        else:
            self.emit(self.zero_ops(place), label=self.low.text(s.span))

    def _slot(self, place: Scalar) -> int:
        assert isinstance(place.loc, ir.Static)
        return place.loc.slot

    def zero_ops(self, place: Place) -> list[ir.Op]:
        """Initialise an on-stack struct: every slot back to its initial value."""
        slots: list[int] = []
        if isinstance(place, Inst) and isinstance(place.num, ir.Const):
            info = self.low.structs[place.struct]
            assert info.bases is not None
            base = info.bases[place.num.value - 1]
            slots = list(range(base, base + info.size))
        elif isinstance(place, Array):
            for num in place.nums:
                info = self.low.structs[place.elem.name]
                assert info.bases is not None
                slots += range(info.bases[num - 1], info.bases[num - 1] + info.size)
        elif isinstance(place, Head) and isinstance(place.first, ir.Static):
            slots = list(range(place.first.slot, place.first.slot + place.capacity))
        return [ir.Assign(ir.Static(k), ir.Const(self.low.slots[k].init), -(2**31), 2**31, "") for k in slots]

    def assign_op(self, place: Scalar, value: ir.Expr) -> ir.Assign:
        t = place.type
        hi = t.hi if t.kind != "ref" else 10**6  # references are checked by their type
        return ir.Assign(place.loc, value, t.lo, hi, place.what)

    def check_assign(self, target: Type, value: Type, span: ast.Span) -> None:
        if not compatible(target, value):
            raise self.low.error(f"type error: cannot assign {value.describe()} to {target.describe()}", span)

    def stmt_assign(self, s: ast.Assign) -> None:
        place = self.place(s.target)
        if not isinstance(place, Scalar):
            raise self.low.error("only scalars can be assigned", s.span, "assign the fields one by one")
        value, vt = self.value(s.value)
        if s.op != "=":
            value = ir.Binary(s.op[0], ir.Read(place.loc), value)
            vt = INT
        self.check_assign(place.type, vt, s.span)
        if (
            isinstance(value, ir.Const)
            and place.type.kind in ("int", "bool", "enum")
            and not place.type.lo <= value.value <= place.type.hi
        ):
            raise self.low.error(
                f"value {value.value} is out of range {place.type.lo}..{place.type.hi} of {place.what}",
                s.span,
            )
        self.emit([self.assign_op(place, value)])

    def stmt_exprstmt(self, s: ast.ExprStmt) -> None:
        if not isinstance(s.expr, ast.Call):
            raise self.low.error("this statement has no effect", s.span, "did you mean an assignment?")
        self.call(s.expr, want_value=False)

    def stmt_if(self, s: ast.If) -> None:
        warn = s.cond if isinstance(s.cond, ast.WarnExpr) else None
        cond_ast = warn.cond if warn else s.cond
        cond, _ = self.value(cond_ast, scalar=True)
        checks: list[ir.Op] = []
        if warn is not None:
            checks = [self.warn_check(warn.kind, cond, warn.name, warn.span)]
        head = self._node("choice", [], "")
        self.join(head)
        label = self.low.text(s.span)
        ends: list[Node | None] = []
        for taken, branch in ((True, s.then), (False, s.other)):
            self.cur = head
            guard = ir.Guard(cond if taken else _not(cond))
            self.emit(
                (checks if taken else []) + [guard], label=label if taken else f"{label} [no]", span=s.span
            )
            if branch is not None:
                self.stmt(branch)
            ends.append(self.cur)
        after = self.nop()
        for end in ends:
            self.link(end, after)
        self.cur = after

    def stmt_while(self, s: ast.While) -> None:
        head, exit_ = self.nop(), self.nop()
        self.join(head)
        forever = isinstance(s.cond, ast.BoolLit) and s.cond.value
        if not forever:
            cond, _ = self.value(s.cond, scalar=True)
            choice = self._node("choice", [], "")
            self.join(choice)
            self.emit([ir.Guard(_not(cond))], label=f"{self.low.text(s.span)} [exit]")
            self.link(self.cur, exit_)
            self.cur = choice
            self.emit([ir.Guard(cond)], label=self.low.text(s.span))
        self.frame.loops.append((exit_, head))
        self.stmt(s.body)
        self.frame.loops.pop()
        self.link(self.cur, head)
        self.cur = exit_

    def stmt_goto(self, s: ast.Goto) -> None:
        self.frame.gotos.append((s.label, s.span, self.atomic))
        self.link(self.cur, self.label_node(s.label))
        self.cur = None

    def label_node(self, label: str) -> Node:
        labels = self.frame.labels
        if label not in labels:
            labels[label] = self.nop()
        return labels[label]

    def stmt_labeled(self, s: ast.Labeled) -> None:
        if s.label in self.frame.defined:
            raise self.low.error(f"label {s.label!r} is defined twice", s.span)
        self.frame.defined[s.label] = self.atomic
        node = self.label_node(s.label)
        node.atomic = self.atomic  # a label a goto named before it was defined
        self.join(node)
        self.stmt(s.body)

    def stmt_break(self, s: ast.Break) -> None:
        if not self.frame.loops:
            raise self.low.error("break outside a loop", s.span)
        self.link(self.cur, self.frame.loops[-1][0])
        self.cur = None

    def stmt_continue(self, s: ast.Continue) -> None:
        if not self.frame.loops:
            raise self.low.error("continue outside a loop", s.span)
        self.link(self.cur, self.frame.loops[-1][1])
        self.cur = None

    def stmt_return(self, s: ast.Return) -> None:
        frame = self.frame
        if s.value is not None:
            if frame.ret is None:
                raise self.low.error("this function returns no value", s.span)
            value, vt = self.value(s.value)
            self.check_assign(frame.ret_type, vt, s.span)
            self.emit([self.assign_op(frame.ret, value)])
        elif frame.ret is not None:
            raise self.low.error("return without a value in a function that returns one", s.span)
        self.release_temps()
        self.link(self.cur, frame.exit)
        self.cur = None

    def stmt_atomic(self, s: ast.Atomic) -> None:
        if self.atomic is not None:
            self.block(s.body)
            return
        self.low.atomic_count += 1
        self.atomic = self.low.atomic_count
        entry = self._node("choice", [], "")
        entry.region_entry = True
        self.join(entry)
        self.block(s.body)
        self.atomic = None

    def stmt_await(self, s: ast.Await) -> None:
        cond, _ = self.value(s.cond, scalar=True)
        self.emit([ir.Guard(cond)], is_await=True)

    def stmt_either(self, s: ast.Either) -> None:
        head = self._node("choice", [], "")
        self.join(head)
        ends = []
        for branch in s.branches:
            self.cur = head
            self.block(branch)
            ends.append(self.cur)
        after = self.nop()
        for end in ends:
            self.link(end, after)
        self.cur = after

    def stmt_choose(self, s: ast.Choose) -> None:
        place = self.place(s.target)
        if not isinstance(place, Scalar):
            raise self.low.error("choose needs a scalar variable", s.span)
        lo, hi = self.low.const_value(s.lo), self.low.const_value(s.hi)
        if lo > hi or hi - lo > 64:
            raise self.low.error(f"choose range {lo}..{hi} is empty or wider than 65 values", s.span)
        head = self._node("choice", [], "")
        self.join(head)
        after = self.nop()
        for v in range(lo, hi + 1):
            self.cur = head
            self.emit([self.assign_op(place, ir.Const(v))], label=f"{self.low.text(s.span)} -> {v}")
            self.link(self.cur, after)
        self.cur = after

    def stmt_assertstmt(self, s: ast.AssertStmt) -> None:
        cond, _ = self.value(s.cond, scalar=True)
        name = s.name or f"assert@{s.span.file.rsplit('/', 1)[-1]}:{s.span.line}"
        if self.is_ignored(name):
            return
        self.register(name, "assert", s.span, self.low.text(s.span))
        self.emit([ir.Check(name, cond, f"assertion failed: {self.low.text(s.cond.span)}")])

    def is_ignored(self, name: str) -> bool:
        """Whether the spec said ``ignore NAME;`` (the check then costs nothing: no step)."""
        if name in self.low.ignored:
            self.low.ignored_seen.add(name)
            return True
        return False

    def warn_check(self, kind: str, cond: ir.Expr, name: str | None, span: ast.Span) -> ir.Op:
        where = self.kernel.function if self.kernel else self.frame.name
        line = f"@{self.kernel.line}" if self.kernel else f"@{span.file.rsplit('/', 1)[-1]}:{span.line}"
        pname = name or f"{where}:{kind.upper()}{line}"
        text = f"{kind.upper()}({self.low.text(span).split('(', 1)[-1].rsplit(')', 1)[0]})"
        if self.is_ignored(pname):
            return ir.Guard(ir.Const(1))
        self.register(pname, "warn", span, text)
        return ir.Check(pname, _not(cond), f"{text} fired in {where}")

    def stmt_warn(self, s: ast.Warn) -> None:
        cond, _ = self.value(s.cond, scalar=True)
        check = self.warn_check(s.kind, cond, s.name, s.span)
        if isinstance(check, ir.Check):
            self.emit([check])

    def register(self, name: str, kind: str, span: ast.Span, text: str) -> None:
        if name not in self.low.properties:
            self.low.properties[name] = Property(
                name, kind, SourceRef(span.file, span.line, span.col), None, text, self.kernel
            )

    # ------------------------------------------------------------------ calls

    def call(self, c: ast.Call, want_value: bool) -> tuple[ir.Expr, Type]:
        if c.func in ("returned", "done") and self.low.process_pcs is not None:
            return self.returned(c)
        if c.func in _BUILTINS:
            return self.builtin(c, want_value)
        if c.func not in self.low.funcs:
            raise self.low.error(f"unknown function {c.func!r}", c.span, self._suggest_func(c.func))
        fdef, library = self.low.funcs[c.func]
        if any(f.name == fdef.name for f in self.frames[1:]):
            raise self.low.error(
                f"recursive call of {fdef.name!r}", c.span, "recursion is not supported; unroll it"
            )
        if len(c.args) != len(fdef.params):
            raise self.low.error(
                f"{fdef.name} takes {len(fdef.params)} argument(s), {len(c.args)} given", c.span
            )
        args = []
        for a, p in zip(c.args, fdef.params):
            pt = self.low.resolve_type(p.type)
            value, vt = self.value(a)
            self.check_assign(pt, vt, getattr(a, "span", c.span))
            args.append((pt, value, p))
        ret_type = self.low.resolve_type(fdef.ret)
        if want_value and ret_type.kind == "void":
            raise self.low.error(f"{fdef.name} returns no value", c.span)
        ret: Scalar | None = None
        if ret_type.kind != "void":
            if not ret_type.scalar:
                raise self.low.error("functions may only return scalars or pointers", fdef.ret.span)
            ret = self._temp(fdef.name, ret_type)
        return self.inline(fdef, library, args, ret, ret_type, c.span)

    def _suggest_func(self, name: str) -> str:
        import difflib

        close = difflib.get_close_matches(name, list(self.low.funcs) + sorted(_BUILTINS), n=1)
        return f"did you mean {close[0]!r}?" if close else "define it, or include the prelude"

    def _temp(self, what: str, t: Type) -> Scalar:
        count = self.instances.get(f"ret.{what}", 0) + 1
        self.instances[f"ret.{what}"] = count
        name = f"{self.pname}.{what}()" + (f"#{count}" if count > 1 else "")
        if self.pool.get(t):
            slot = self.pool[t].pop()
            self.temps.append(slot)
            return Scalar(ir.Static(slot), t, name)
        place = self.low.allocate(name, t, self.pid, False, ast.NOSPAN)
        assert isinstance(place, Scalar)
        slot = self._slot(place)
        self._mark_local([slot])
        self.local_slots.add(slot)
        self.temps.append(slot)
        return place

    def inline(
        self,
        fdef: ast.FuncDef,
        library: bool,
        args: list[tuple[Type, ir.Expr, ast.Param]],
        ret: Scalar | None,
        ret_type: Type,
        span: ast.Span,
    ) -> tuple[ir.Expr, Type]:
        saved = (self.kernel, self.label_override, self.stmt_span)
        saved_temps, self.temps = self.temps, []
        if library and self.label_override is None and not self.frame.library:
            self.label_override = self.low.text(self.stmt_span)
        exit_ = self.nop()
        frame = Frame(fdef.name, library, [{}], exit_, ret, ret_type)
        if fdef.kfile is not None:
            frame.kfile = fdef.kfile
            frame.kernel = KernelRef(fdef.kfile, fdef.kline or 0, fdef.name)
        else:
            # the file's own `source`, else the caller's kernel file
            caller = self.frame.kfile if self.frames else self.low.kernel_file
            frame.kfile = self.low.sources.get(fdef.span.file, caller)
        self.frames.append(frame)
        if frame.kernel is not None:
            self.kernel = frame.kernel
        binds: list[ir.Op] = []
        for pt, value, p in args:
            place = self.declare_local(p.name, pt, False, p.span)
            assert isinstance(place, Scalar)
            binds.append(self.assign_op(place, value))
        if binds:
            self.emit(binds, label=self.low.text(span) if self.label_override is None else None, span=span)
        start = self.cur
        self.block(fdef.body)
        if ret is not None and start is not None and self._reaches(start, self.cur):
            raise self.low.error(
                f"control can reach the end of {fdef.name}() without a return",
                fdef.span,
                f"{fdef.name} returns {ret_type.describe()}; end every path with a return statement",
            )
        self.finish_frame()
        resets: list[ir.Op] = [
            ir.Assign(ir.Static(k), ir.Const(self.low.slots[k].init), -(2**31), 2**31, "")
            for k in frame.locals
        ]
        if resets:
            self.emit(resets, label="")
        self._free(frame.locals)
        self.frames.pop()
        self.kernel, self.label_override, self.stmt_span = saved
        self.temps = saved_temps
        if ret is None:
            return ir.Const(0), VOID
        return ir.Read(ret.loc), ret_type

    def _reaches(self, start: Node, end: Node | None) -> bool:
        """Whether the graph leads from ``start`` to ``end``."""
        if end is None:
            return False
        seen = {start.nid}
        work = [start.nid]
        while work:
            nid = work.pop()
            if nid == end.nid:
                return True
            for nxt in self.g.nodes[nid].succ:
                if nxt not in seen:
                    seen.add(nxt)
                    work.append(nxt)
        return False

    def returned(self, c: ast.Call) -> tuple[ir.Expr, Type]:
        """``returned(P)`` / ``done(P)`` in a temporal property: process P has reached its end."""
        pcs = self.low.process_pcs or {}
        if len(c.args) != 1 or not isinstance(c.args[0], ast.Name) or c.args[0].ident not in pcs:
            raise self.low.error(f"{c.func} takes the name of a process", c.span,
                                 "processes: " + ", ".join(sorted(pcs)))
        pc, end = pcs[c.args[0].ident]
        return ir.Binary("==", ir.Read(ir.Static(pc)), ir.Const(end)), BOOL

    # ------------------------------------------------------------------ builtins

    def builtin(self, c: ast.Call, want_value: bool) -> tuple[ir.Expr, Type]:
        name, args = c.func, c.args
        arity = {
            "list_add": 2,
            "list_add_tail": 2,
            "list_del_init": 1,
            "list_empty": 1,
            "list_first_entry": 1,
            "list_next_entry": 1,
            "container_of": 3,
            "xchg": 2,
        }[name]
        if len(args) != arity:
            raise self.low.error(f"{name} takes {arity} argument(s), {len(args)} given", c.span)
        if name in ("list_add", "list_add_tail"):
            node = self.node_arg(args[0])
            pos = self.addr_place(args[1])
            table = self.low.node_table(node.struct)
            if isinstance(pos, Head):
                if pos.struct != node.struct:
                    raise self.low.error(f"a {node.struct} cannot go on a list of {pos.struct}", c.span)
                where = "head" if name == "list_add" else "tail"
                op = ir.ListInsert(table, node.num, where, pos.ir(), None)  # type: ignore[arg-type]
            elif isinstance(pos, NodeField):
                where = "after" if name == "list_add" else "before"
                op = ir.ListInsert(table, node.num, where, None, pos.num)  # type: ignore[arg-type]
            else:
                raise self.low.error(f"the second argument of {name} must be a list head or node", c.span)
            self.emit([op])
            return ir.Const(0), VOID
        if name == "list_del_init":
            node = self.node_arg(args[0])
            self.emit([ir.ListRemove(self.low.node_table(node.struct), node.num)])  # type: ignore[arg-type]
            return ir.Const(0), VOID
        if name == "list_empty":
            pos = self.addr_place(args[0])
            if isinstance(pos, Head):
                return ir.Binary("==", ir.ListLen(pos.ir()), ir.Const(0)), BOOL
            if isinstance(pos, NodeField):
                return ir.Binary("==", ir.Read(pos.loc), ir.Const(0)), BOOL
            raise self.low.error("list_empty needs a list head or a list node", c.span)
        if name == "list_first_entry":
            pos = self.addr_place(args[0])
            if not isinstance(pos, Head):
                raise self.low.error("list_first_entry needs a list head", c.span)
            return ir.ListFirst(pos.ir()), ref_to(pos.struct)
        if name == "list_next_entry":
            node = self.node_arg(args[0])
            return ir.ListNext(self.low.node_table(node.struct), node.num), ref_to(node.struct)  # type: ignore[arg-type]
        if name == "container_of":
            return self.container_of(c)
        return self.xchg(c)

    def node_arg(self, a: ast.Expr) -> NodeField:
        place = self.addr_place(a)
        if not isinstance(place, NodeField):
            raise self.low.error("expected a list node such as &work->node", getattr(a, "span", ast.NOSPAN))
        return place

    def addr_place(self, a: ast.Expr) -> Place:
        if isinstance(a, ast.UnaryOp) and a.op == "&":
            a = a.arg
        return self.place(a)

    def container_of(self, c: ast.Call) -> tuple[ir.Expr, Type]:
        ptr, vt = self.value(c.args[0])
        outer_e, fld = c.args[1], c.args[2]
        if not (isinstance(outer_e, ast.Name) and isinstance(fld, ast.Name)):
            raise self.low.error("write container_of(pointer, struct_name, field_name)", c.span)
        outer = outer_e.ident
        if outer not in self.low.structs:
            raise self.low.error(f"unknown struct {outer!r}", outer_e.span)
        info = self.low.structs[outer]
        if fld.ident not in info.fields or info.fields[fld.ident][1].kind != "struct":
            raise self.low.error(f"struct {outer} has no struct field {fld.ident!r}", fld.span)
        inner = info.fields[fld.ident][1].name
        if vt.kind != "ref" or vt.name not in ("", inner):
            raise self.low.error(f"container_of needs a {inner} *, got {vt.describe()}", c.span)
        table = self.low.container_table(outer, fld.ident, inner)
        what = f"container_of: the {inner} is null or not inside a {outer}"
        return ir.Lookup(table, ptr, 1, True, what), ref_to(outer)  # type: ignore[arg-type]

    def xchg(self, c: ast.Call) -> tuple[ir.Expr, Type]:
        place = self.addr_place(c.args[0])
        if not isinstance(place, Scalar):
            raise self.low.error("xchg needs a scalar place such as &create->done", c.span)
        value, vt = self.value(c.args[1])
        self.check_assign(place.type, vt, c.span)
        tmp = self._temp("xchg", place.type)
        self.emit([self.assign_op(tmp, ir.Read(place.loc)), self.assign_op(place, value)])
        return ir.Read(tmp.loc), place.type

    # ------------------------------------------------------------------ places and values

    def place(self, e: ast.Expr) -> Place:
        if isinstance(e, ast.Name):
            found = self.lookup(e.ident, e.span)
            if isinstance(found, (Scalar, Inst, Array, Head, NodeField)):
                return found
            raise self.low.error(f"{e.ident!r} is a constant, not a variable", e.span)
        if isinstance(e, ast.Field):
            return self.member(e)
        if isinstance(e, ast.Index):
            return self.index(e)
        if isinstance(e, ast.UnaryOp) and e.op == "*":
            value, vt = self.value(e.arg)
            if vt.kind != "ref":
                raise self.low.error("only pointers to structs can be dereferenced", e.span)
            return Inst(vt.name, value, self.low.text(e.span))
        raise self.low.error(
            "expected a variable, a field or an array element", getattr(e, "span", ast.NOSPAN)
        )

    def instance_of(self, base: ast.Expr) -> Inst:
        """The struct instance ``base`` denotes, through a pointer or directly."""
        if isinstance(base, (ast.Name, ast.Field, ast.Index)) or (
            isinstance(base, ast.UnaryOp) and base.op == "*"
        ):
            place = self.place(base)
            if isinstance(place, Inst):
                return place
            if isinstance(place, Scalar) and place.type.kind == "ref":
                return Inst(place.type.name, ir.Read(place.loc), self.low.text(base.span))
            raise self.low.error(
                f"{self.low.text(base.span)!r} is not a struct or a pointer to one", base.span
            )
        value, vt = self.value(base)
        if vt.kind != "ref":
            raise self.low.error("not a struct or a pointer to one", getattr(base, "span", ast.NOSPAN))
        return Inst(vt.name, value, self.low.text(getattr(base, "span", ast.NOSPAN)))

    def member(self, e: ast.Field) -> Place:
        inst = self.instance_of(e.base)
        info = self.low.structs[inst.struct]
        if e.name not in info.fields:
            import difflib

            close = difflib.get_close_matches(e.name, list(info.fields), n=1)
            raise self.low.error(
                f"struct {inst.struct} has no field {e.name!r}",
                e.span,
                f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(info.fields)}",
            )
        offset, ft = info.fields[e.name]
        what = self.low.text(e.span) or f"{inst.what}.{e.name}"
        if isinstance(inst.num, ir.Const) and inst.num.value == 0:
            raise self.low.error("null dereference", e.span)
        if ft.kind == "struct":
            nums = self.low.embedded.setdefault((inst.struct, e.name), [])
            if isinstance(inst.num, ir.Const):
                return Inst(ft.name, ir.Const(nums[inst.num.value - 1]), what)
            from kverify.lang.lower import Deferred

            table = Deferred(lambda: tuple(nums))
            return Inst(ft.name, ir.Lookup(table, inst.num, 1, True, f"null dereference in {what}"), what)  # type: ignore[arg-type]
        loc = self.field_loc(inst, offset, what)
        if ft.kind == "list_head":
            return Head(ft.name, loc, ft.capacity, what)
        if ft.kind == "list_node":
            return NodeField(inst.struct, loc, inst.num, what)
        return Scalar(loc, ft, what)

    def field_loc(self, inst: Inst, offset: int, what: str) -> ir.Loc:
        if isinstance(inst.num, ir.Const):
            bases = self.low.structs[inst.struct].bases
            assert bases is not None
            return ir.Static(bases[inst.num.value - 1] + offset)
        return ir.Dynamic(self.low.bases(inst.struct), inst.num, offset, 1, what)  # type: ignore[arg-type]

    def index(self, e: ast.Index) -> Place:
        arr = self.place(e.base)
        if not isinstance(arr, Array):
            raise self.low.error("only arrays can be indexed", e.span)
        idx, _ = self.value(e.index, scalar=True)
        what = self.low.text(e.span)
        if isinstance(idx, ir.Const) and not 0 <= idx.value < arr.length:
            raise self.low.error(f"index {idx.value} is out of bounds 0..{arr.length - 1}", e.span)
        if arr.elem.kind == "struct":
            if isinstance(idx, ir.Const):
                return Inst(arr.elem.name, ir.Const(arr.nums[idx.value]), what)
            return Inst(
                arr.elem.name, ir.Lookup(arr.nums, idx, 0, True, f"index out of bounds in {what}"), what
            )
        if isinstance(idx, ir.Const):
            return Scalar(ir.Static(arr.base + idx.value), arr.elem, what)
        bases = tuple(arr.base + k for k in range(arr.length))
        return Scalar(ir.Dynamic(bases, idx, 0, 0, what), arr.elem, what)

    def value(self, e: ast.Expr, scalar: bool = False) -> tuple[ir.Expr, Type]:
        result = self._value(e)
        return result

    def _value(self, e: ast.Expr) -> tuple[ir.Expr, Type]:
        if isinstance(e, ast.Num):
            return ir.Const(e.value), Type("int", e.value, e.value)
        if isinstance(e, ast.BoolLit):
            return ir.Const(int(e.value)), BOOL
        if isinstance(e, ast.Null):
            return ir.Const(0), ref_to("")
        if isinstance(e, ast.Name):
            found = self.lookup(e.ident, e.span)
            if isinstance(found, (ir.Const,)):
                if e.ident in self.low.members:
                    return found, self.low.members[e.ident][0]
                return found, INT
            if isinstance(found, Inst) and (e.ident in self.low.process_tasks or e.ident == "current"):
                return found.num, ref_to("task_struct")  # a process name stands for its task
            return self.read(found, e)
        if isinstance(e, (ast.Field, ast.Index)):
            return self.read(self.place(e), e)
        if isinstance(e, ast.Call):
            return self.call(e, want_value=True)
        if isinstance(e, ast.UnaryOp):
            return self.unary(e)
        if isinstance(e, ast.BinOp):
            return self.binary(e)
        if isinstance(e, ast.Cond):
            if self._has_call(e.then) or self._has_call(e.other):
                raise self.low.error(
                    "calls inside ?: branches are not supported", e.span, "use an if statement"
                )
            c, _ = self.value(e.cond)
            a, at = self.value(e.then)
            b, _ = self.value(e.other)
            return ir.Ite(c, a, b), at
        if isinstance(e, ast.WarnExpr):
            raise self.low.error("warn_on can only be a statement or an if condition", e.span)
        raise self.low.error("unsupported expression", getattr(e, "span", ast.NOSPAN))

    def read(self, place: Place, e: ast.Expr) -> tuple[ir.Expr, Type]:
        if isinstance(place, Scalar):
            return ir.Read(place.loc), place.type
        kind = type(place).__name__.lower()
        raise self.low.error(
            f"{self.low.text(e.span)!r} is a {kind}, not a value",
            e.span,
            "take its address with & to pass it to a function",
        )

    def unary(self, e: ast.UnaryOp) -> tuple[ir.Expr, Type]:
        if e.op == "&":
            place = self.place(e.arg)
            if isinstance(place, Inst):
                return place.num, ref_to(place.struct)
            raise self.low.error(
                "& of this is only allowed as an argument of a list builtin or xchg",
                e.span,
                "pointers exist to structs only",
            )
        if e.op == "*":
            raise self.low.error("*p is only allowed as a place (p->field)", e.span)
        arg, _ = self.value(e.arg)
        if e.op == "!":
            return ir.Unary("!", arg), BOOL
        if isinstance(arg, ir.Const) and e.op == "-":
            return ir.Const(-arg.value), INT
        return ir.Unary(e.op, arg), INT

    def _has_call(self, e: ast.Expr) -> bool:
        """Whether evaluating ``e`` runs a function (pure builtins do not)."""
        if isinstance(e, ast.Call) and e.func not in _PURE_BUILTINS:
            return not (e.func in ("returned", "done") and self.low.process_pcs is not None)
        for child in getattr(e, "__dataclass_fields__", {}):
            value = getattr(e, child)
            if isinstance(
                value, (ast.Call, ast.BinOp, ast.UnaryOp, ast.Cond, ast.Field, ast.Index)
            ) and self._has_call(value):
                return True
        return False

    def binary(self, e: ast.BinOp) -> tuple[ir.Expr, Type]:
        if e.op in ("&&", "||") and self._has_call(e.right):
            raise self.low.error(
                f"a call on the right of {e.op} is not supported",
                e.right.span,
                "evaluate it in its own statement first (C would skip it)",
            )
        a, at = self.value(e.left)
        b, bt = self.value(e.right)
        if e.op in _COMPARE:
            if at.kind == "ref" and bt.kind == "ref" and "" not in (at.name, bt.name) and at.name != bt.name:
                raise self.low.error(f"type error: comparing {at.describe()} with {bt.describe()}", e.span)
            if (at.kind == "enum") != (bt.kind == "enum") and "int" not in (at.kind, bt.kind):
                raise self.low.error(f"type error: comparing {at.describe()} with {bt.describe()}", e.span)
            if at.kind == "enum" and bt.kind == "enum" and at.name != bt.name:
                raise self.low.error(f"type error: comparing {at.describe()} with {bt.describe()}", e.span)
            return ir.Binary(e.op, a, b), BOOL
        if e.op in ("&&", "||"):
            return ir.Binary(e.op, a, b), BOOL
        for t, side in ((at, e.left), (bt, e.right)):
            if t.kind in ("ref", "enum"):
                raise self.low.error(f"type error: arithmetic on {t.describe()}", side.span)
        if isinstance(a, ir.Const) and isinstance(b, ir.Const) and e.op in ("+", "-", "*"):
            value = (
                a.value + b.value if e.op == "+" else a.value - b.value if e.op == "-" else a.value * b.value
            )
            return ir.Const(value), INT
        return ir.Binary(e.op, a, b), INT


def nodes_of(g: Graph) -> Iterator[Node]:
    yield from g.nodes


__all__ = ["Body", "KverifyError", "Property"]
