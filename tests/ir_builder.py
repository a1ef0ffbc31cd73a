"""Build small transition systems by hand, straight from the IR, for the engine tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from kverify.ir import expr as ir
from kverify.ir.system import (
    KernelRef,
    Layout,
    Process,
    Property,
    Slot,
    SourceRef,
    State,
    Transition,
    TransitionSystem,
    ValueType,
    Variable,
)

INT = ValueType("int")


def const(value: int) -> ir.Const:
    return ir.Const(value)


def read(slot: int) -> ir.Read:
    return ir.Read(ir.Static(slot))


def binary(op: str, left: ir.Expr, right: ir.Expr) -> ir.Binary:
    return ir.Binary(op, left, right)


def eq(slot: int, value: int) -> ir.Binary:
    return ir.Binary("==", read(slot), ir.Const(value))


def assign(slot: int, value: ir.Expr, lo: int, hi: int, what: str = "x") -> ir.Assign:
    return ir.Assign(ir.Static(slot), value, lo, hi, what)


@dataclass
class Builder:
    """Collects slots, processes, transitions and properties; ``build`` freezes them."""

    name: str = "test"
    slots: list[Slot] = field(default_factory=list)
    procs: list[Process] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    props: list[Property] = field(default_factory=list)

    def var(
        self, name: str, lo: int, hi: int, init: int = 0, owner: int | None = None
    ) -> int:
        """A new integer slot (and variable of the same name); returns its index."""
        index = len(self.slots)
        self.slots.append(Slot(index, name, lo, hi, init, INT, owner))
        return index

    def process(self, name: str, end_pc: int, daemon: bool = False) -> int:
        """A new process whose pc runs 0..end_pc; returns its pid."""
        pid = len(self.procs)
        pc_slot = len(self.slots)
        self.slots.append(
            Slot(pc_slot, f"{name}.pc", 0, end_pc, 0, ValueType("pc"), pid)
        )
        self.procs.append(Process(pid, name, pc_slot, end_pc, daemon))
        return pid

    def step(
        self,
        pid: int,
        pc_from: int,
        pc_to: int,
        ops: list[ir.Op],
        label: str = "",
        kernel: KernelRef | None = None,
        stack: tuple[str, ...] = (),
    ) -> int:
        """A transition of process ``pid`` from ``pc_from`` to ``pc_to``; returns its tid."""
        tid = len(self.transitions)
        pc = self.procs[pid].pc_slot
        reads: set[int] = {pc}
        writes: set[int] = {pc}
        for op in ops:
            r, w = ir.op_access(op)
            reads |= r
            writes |= w
        self.transitions.append(
            Transition(
                tid=tid,
                pid=pid,
                pc_from=pc_from,
                pc_to=pc_to,
                ops=tuple(ops),
                reads=frozenset(reads),
                writes=frozenset(writes),
                label=label or f"t{tid}",
                source=SourceRef("test.kvl", 10 + tid, 5),
                kernel=kernel,
                stack=stack,
            )
        )
        return tid

    def invariant(self, name: str, cond: ir.Expr, description: str = "") -> None:
        self.props.append(
            Property(name, "invariant", expr=cond, description=description)
        )

    def final(self, name: str, cond: ir.Expr) -> None:
        self.props.append(Property(name, "final", expr=cond))

    def check_prop(self, name: str) -> None:
        self.props.append(Property(name, "assert"))

    def build(
        self, initial_states: list[State] | None = None, check_deadlock: bool = True
    ) -> TransitionSystem:
        slots = tuple(self.slots)
        variables = tuple(
            Variable(s.name, (s.index,), "scalar", s.owner)
            for s in slots
            if s.vtype.kind != "pc"
        )
        layout = Layout(slots, variables)
        props = list(self.props)
        names = {p.name for p in props}
        for builtin in ("deadlock", "model-error"):
            if builtin not in names:
                props.append(Property(builtin, builtin))
        return TransitionSystem(
            name=self.name,
            variant="reference",
            layout=layout,
            processes=tuple(self.procs),
            transitions=tuple(self.transitions),
            initial_states=tuple(initial_states or [layout.initial()]),
            properties=tuple(props),
            check_deadlock=check_deadlock,
        )


# ---------------------------------------------------------------------- example systems


def counter_race() -> TransitionSystem:
    """Two processes increment x non-atomically (read into a local, then write back)."""
    b = Builder("counter")
    x = b.var("x", 0, 2)
    for name in ("cpu0", "cpu1"):
        pid = b.process(name, 2)
        tmp = b.var(f"{name}.tmp", 0, 2, owner=pid)
        b.step(
            pid,
            0,
            1,
            [assign(tmp, read(x), 0, 2, "tmp")],
            "tmp = x",
            KernelRef("kthread.c", 100, "inc"),
            ("inc",),
        )
        b.step(
            pid,
            1,
            2,
            [assign(x, binary("+", read(tmp), const(1)), 0, 2, "x")],
            "x = tmp + 1",
            KernelRef("kthread.c", 101, "inc"),
            ("inc",),
        )
    b.final("no_lost_update", eq(x, 2))
    return b.build()


def locked_counter() -> TransitionSystem:
    """The counter of :func:`counter_race` under a lock taken with Guard + Assign."""
    b = Builder("locked")
    x = b.var("x", 0, 2)
    lock = b.var("lock", 0, 1)
    pcs = []
    for name in ("cpu0", "cpu1"):
        pid = b.process(name, 4)
        pcs.append(b.procs[pid].pc_slot)
        tmp = b.var(f"{name}.tmp", 0, 2, owner=pid)
        b.step(
            pid,
            0,
            1,
            [ir.Guard(eq(lock, 0)), assign(lock, const(1), 0, 1, "lock")],
            "lock",
        )
        b.step(pid, 1, 2, [assign(tmp, read(x), 0, 2, "tmp")], "tmp = x")
        b.step(
            pid,
            2,
            3,
            [assign(x, binary("+", read(tmp), const(1)), 0, 2, "x")],
            "x = tmp + 1",
        )
        b.step(pid, 3, 4, [assign(lock, const(0), 0, 1, "lock")], "unlock")
    in_cs = [
        binary("&&", binary(">=", read(pc), const(1)), binary("<=", read(pc), const(3)))
        for pc in pcs
    ]
    b.invariant("mutex", ir.Unary("!", binary("&&", in_cs[0], in_cs[1])))
    b.final("no_lost_update", eq(x, 2))
    return b.build()


def lock_order_deadlock() -> TransitionSystem:
    """Two locks taken in opposite orders by two processes."""
    b = Builder("abba")
    locks = {"a": b.var("a", 0, 1), "b": b.var("b", 0, 1)}
    for name, order in (("cpu0", "ab"), ("cpu1", "ba")):
        pid = b.process(name, 4)
        first, second = locks[order[0]], locks[order[1]]
        for k, lk in enumerate((first, second)):
            b.step(
                pid,
                k,
                k + 1,
                [ir.Guard(eq(lk, 0)), assign(lk, const(1), 0, 1)],
                f"spin_lock({order[k]})",
            )
        b.step(pid, 2, 3, [assign(second, const(0), 0, 1)], f"spin_unlock({order[1]})")
        b.step(pid, 3, 4, [assign(first, const(0), 0, 1)], f"spin_unlock({order[0]})")
    return b.build()


def deep_invariant(limit: int = 3, top: int = 6) -> TransitionSystem:
    """One process counts x up to ``top``; the invariant x < limit fails at depth ``limit``."""
    b = Builder("deep")
    x = b.var("x", 0, top)
    pid = b.process("cpu0", top)
    for k in range(top):
        b.step(
            pid, k, k + 1, [assign(x, binary("+", read(x), const(1)), 0, top)], "x++"
        )
    b.invariant(
        "x_small", binary("<", read(x), const(limit)), "x stays below the limit"
    )
    return b.build()


def overflow() -> TransitionSystem:
    """A looping increment of x in 0..1: the second increment is out of range."""
    b = Builder("overflow")
    x = b.var("x", 0, 1)
    pid = b.process("cpu0", 1)
    b.step(pid, 0, 0, [assign(x, binary("+", read(x), const(1)), 0, 1, "x")], "x++")
    return b.build()


def failing_check() -> TransitionSystem:
    """cpu1 warns when it sees the flag cpu0 sets."""
    b = Builder("warn")
    flag = b.var("flag", 0, 1)
    p0 = b.process("cpu0", 1)
    b.step(p0, 0, 1, [assign(flag, const(1), 0, 1, "flag")], "flag = 1")
    p1 = b.process("cpu1", 1)
    b.step(
        p1,
        0,
        1,
        [ir.Check("no_flag", eq(flag, 0), "WARN_ON(flag)")],
        "warn_on(flag)",
        KernelRef("kthread.c", 777, "kthread_check"),
        ("kthread_check",),
    )
    b.check_prop("no_flag")
    return b.build()


def counters(n: int, top: int) -> TransitionSystem:
    """``n`` independent processes each counting to ``top``: (top+1)**n states."""
    b = Builder("counters")
    for k in range(n):
        pid = b.process(f"p{k}", top)
        for pc in range(top):
            b.step(pid, pc, pc + 1, [], f"tick{pc}")
    return b.build()
