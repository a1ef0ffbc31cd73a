"""Partial-order reduction: strong stubborn sets from the IR's read/write sets.

In a state, the search fires every enabled step to learn which are enabled (and to catch any
failing check or model error of any enabled step), then keeps the successors of a *stubborn
set* only.  The set is closed under two rules (Valmari's strong stubborn sets):

- for an enabled step ``t`` in the set, every step that is *dependent* on ``t`` is added;
- for a disabled step ``t`` in the set, a *necessary enabling set* is added: the steps that
  must fire before ``t`` can become enabled.

Two steps are dependent when they belong to the same process (both write its pc), or one
writes a slot the other reads or writes.  Reads commute with reads; operations on the same lock
conflict because both write the lock's owner slot; steps that touch only their own process's
locals are independent of every other process.  A step disabled because its process is
elsewhere is enabled only by a step of that process leaving its current pc, so the steps of
that process at its current pc form a necessary enabling set; a step disabled by a guard is
enabled only by a step of another process that writes a slot the step reads (its guard's, or
a check's before the guard: a failing check makes the step fail, which counts as enabled).

Why this is sound (the classic argument; Valmari 1991, Godefroid 1996, Valmari & Hansen
2017):
- every transition outside the set is independent of every enabled one inside it, and cannot
  enable a disabled one inside it, so any path from the state that avoids the set can be
  permuted to start with any enabled step of the set: deadlocks (and so ``final`` properties,
  which are judged in states with no enabled step) are preserved;
- a failing check or model error is the firing of one step from one state; permuting
  independent steps in front of it does not change the slots it reads, so the failure is found
  in a reordered path.  Every enabled step is tried in every visited state, so a failure of a
  step left out of the set is still recorded there.  A failing step has no successor, so it
  cannot serve as the set's key: a set whose enabled steps all fail is not used;
- *visibility*: when the set holds an enabled step that writes a slot an invariant reads, the
  state is expanded in full, so no invariant violation is stepped over;
- *cycle proviso*: a step could be postponed forever around a cycle of reduced states
  ("ignoring"). In a breadth-first search every cycle has an edge from a state at depth d to
  a state at depth <= d; a state with such a reduced successor is expanded in full, so every
  cycle holds a fully expanded state (Bosnacki & Holzmann's queue condition, stated for BFS).

:func:`audit` checks the premise on a concrete state: every pair of enabled steps the
reduction treats as independent commutes and neither disables the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter

from kverify.explore.compile import CompiledSystem, StepFailure
from kverify.ir import expr as ir
from kverify.ir.expr import expr_reads
from kverify.ir.independence import dependence, visible
from kverify.ir.system import State, Transition, TransitionSystem

UNKNOWN = None  # a value the static analysis does not know
CACHE_LIMIT = 1 << 20  # stubborn sets remembered per (pcs, lock owners, enabled steps)


def _eval3(e: ir.Expr, known: dict[int, int]) -> int | None:
    """Evaluate ``e`` with the slots in ``known`` fixed and every other read unknown."""
    if isinstance(e, ir.Const):
        return e.value
    if isinstance(e, ir.Read):
        return known.get(e.loc.slot) if isinstance(e.loc, ir.Static) else UNKNOWN
    if isinstance(e, ir.Unary):
        a = _eval3(e.arg, known)
        if a is None:
            return UNKNOWN
        return int(not a) if e.op == "!" else -a if e.op == "-" else ~a
    if isinstance(e, ir.Binary):
        a, b = _eval3(e.left, known), _eval3(e.right, known)
        if e.op == "&&":
            return 0 if 0 in (a, b) else UNKNOWN if None in (a, b) else 1
        if e.op == "||":
            return (
                1
                if (a is not None and a != 0) or (b is not None and b != 0)
                else (UNKNOWN if None in (a, b) else 0)
            )
        if a is None or b is None:
            return UNKNOWN
        ops = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
        return int(ops[e.op]) if e.op in ops else UNKNOWN
    return UNKNOWN


def _guards(t: Transition, local: frozenset[int]) -> list[tuple[ir.Expr, frozenset[int]]]:
    """The guards of a step, each with the shared slots its value depends on (through locals
    assigned earlier in the step)."""
    feeds: dict[int, frozenset[int]] = {}
    out = []
    for op in t.ops:
        if isinstance(op, ir.Assign) and isinstance(op.loc, ir.Static) and op.loc.slot in local:
            feeds[op.loc.slot] = _through(expr_reads(op.value), feeds, local)
        elif isinstance(op, ir.Guard):
            out.append((op.cond, _through(expr_reads(op.cond), feeds, local)))
    return out


def _before_last_guard(
    t: Transition, local: frozenset[int]
) -> list[tuple[ir.Op, frozenset[int], frozenset[int]]]:
    """The operations before a step's last guard that can fail (checks, stores with a range
    check or a dynamic location, list operations), each with the shared slots its outcome
    depends on (through locals assigned earlier in the step) and the slots it reads itself.

    A step whose guard is false is disabled, unless an operation before the guard fails
    first: then the step *fails*, which is a violation to find.  So a write that can make such
    an operation fail can turn a disabled step into a failing one, and belongs to its
    necessary enabling set as much as a write that can make the guard true."""
    last = max((k for k, op in enumerate(t.ops) if isinstance(op, ir.Guard)), default=-1)
    feeds: dict[int, frozenset[int]] = {}
    out: list[tuple[ir.Op, frozenset[int], frozenset[int]]] = []
    for op in t.ops[:last]:
        reads = ir.op_access(op)[0]
        if isinstance(op, ir.Assign) and isinstance(op.loc, ir.Static) and op.loc.slot in local:
            feeds[op.loc.slot] = _through(expr_reads(op.value), feeds, local)
        if isinstance(op, (ir.Guard, ir.Fail)):
            continue  # a guard is the other rule; a Fail reads nothing
        if (
            isinstance(op, ir.Assign)
            and isinstance(op.loc, ir.Static)
            and isinstance(op.value, ir.Const)
            and op.lo <= op.value.value <= op.hi
        ):
            continue  # a constant in range into a fixed slot cannot fail
        out.append((op, _through(reads, feeds, local), reads))
    return out


def _through(
    reads: frozenset[int], feeds: dict[int, frozenset[int]], local: frozenset[int]
) -> frozenset[int]:
    out: set[int] = set()
    for slot in reads:
        if slot in feeds:
            out |= feeds[slot]
        elif slot not in local:
            out.add(slot)
    return frozenset(out)


def _can_fail(e: ir.Expr) -> bool:
    """Whether evaluating ``e`` may stop with a model error (a dynamic access, a table look-up,
    a list read, a division)."""
    if isinstance(e, ir.Read):
        return isinstance(e.loc, ir.Dynamic)
    if isinstance(e, (ir.Lookup, ir.ListFirst, ir.ListNext, ir.ListLen)):
        return True
    if isinstance(e, ir.Unary):
        return _can_fail(e.arg)
    if isinstance(e, ir.Binary):
        return e.op in ("/", "%") or _can_fail(e.left) or _can_fail(e.right)
    if isinstance(e, ir.Ite):
        return _can_fail(e.cond) or _can_fail(e.then) or _can_fail(e.other)
    return False


def _may_turn(writer: Transition, slot: int, cond: ir.Expr, fed: bool, stays: int) -> bool:
    """Could ``writer``'s write of ``slot`` turn ``cond`` away from ``stays`` (a false guard
    true: ``stays=0``; a true check false: ``stays=1``), or make its evaluation fail, which is
    a violation to find?  Only a constant written straight into a slot that a condition which
    cannot fail reads directly can be ruled out: when, with that value, the condition is
    ``stays`` whatever the other slots hold (three-valued evaluation)."""
    if fed or _can_fail(cond):
        return True
    values = [
        op.value
        for op in writer.ops
        if isinstance(op, ir.Assign) and isinstance(op.loc, ir.Static) and op.loc.slot == slot
    ]
    if len(values) != 1 or not isinstance(values[0], ir.Const):
        return True
    return _eval3(cond, {slot: values[0].value}) != stays


def _single_slot(loc: ir.Loc) -> int | None:
    if isinstance(loc, ir.Static):
        return loc.slot
    return loc.bases[0] + loc.offset if len(loc.bases) == 1 else None


def _is_eq(e: ir.Expr, slot: int, value: int) -> bool:
    """``e`` is ``slot == value`` (either way round; dynamic locations with one candidate)."""
    if not (isinstance(e, ir.Binary) and e.op == "=="):
        return False
    for a, b in ((e.left, e.right), (e.right, e.left)):
        if isinstance(a, ir.Read) and _single_slot(a.loc) == slot and isinstance(b, ir.Const):
            return b.value == value
    return False


def _is_ne(e: ir.Expr, slot: int, value: int) -> bool:
    if isinstance(e, ir.Unary) and e.op == "!":
        return _is_eq(e.arg, slot, value)
    return isinstance(e, ir.Binary) and e.op == "!=" and _is_eq(ir.Binary("==", e.left, e.right), slot, value)


def _acquires(before: list[ir.Op], slot: int, task: int) -> bool:
    """The ops before a store of ``task`` into ``slot`` make it a lock acquisition: they wait
    for the slot to be 0 (or for 0 or the task, with a check that it is not the task)."""
    waits_free = any(isinstance(op, ir.Guard) and _is_eq(op.cond, slot, 0) for op in before)
    if waits_free:
        return True
    waits_either = any(
        isinstance(op, ir.Guard)
        and isinstance(op.cond, ir.Binary)
        and op.cond.op == "||"
        and _is_eq(op.cond.left, slot, 0)
        and _is_eq(op.cond.right, slot, task)
        for op in before
    )
    not_mine = any(isinstance(op, ir.Check) and _is_ne(op.cond, slot, task) for op in before)
    return waits_either and not_mine


def _releases(before: list[ir.Op], slot: int, task: int) -> bool:
    """The ops before a store of 0 into ``slot`` make it a release by the holder: a guard or a
    check that the slot holds the process's task."""
    return any(isinstance(op, (ir.Guard, ir.Check)) and _is_eq(op.cond, slot, task) for op in before)


def _lock_ops(system: TransitionSystem) -> tuple[frozenset[int], list[tuple[set[int], set[int]]]]:
    """Lock slots and, per transition, the locks it (acquires, releases).

    A slot is a lock when every write to it is an *acquire* (the process's own task is stored
    after waiting for the slot to be free) or a *release by the holder* (0 is stored after a
    guard or check that the process holds it).  This is the shape of the prelude's spinlocks,
    whose lockdep checks make a misuse a failing step; nothing else is assumed."""
    tasks = {p.pid: p.task_instance for p in system.processes}
    effects: list[tuple[set[int], set[int]]] = []
    good: dict[int, bool] = {}
    for t in system.transitions:
        acq: set[int] = set()
        rel: set[int] = set()
        task = tasks.get(t.pid)
        for k, op in enumerate(t.ops):
            if isinstance(op, ir.Assign):
                slot = _single_slot(op.loc)
                written = ir.loc_slots(op.loc)
                before = list(t.ops[:k])
                if slot is None or not isinstance(op.value, ir.Const) or not task:
                    for w in written:
                        good[w] = False
                elif op.value.value == 0 and _releases(before, slot, task):
                    rel.add(slot)
                    good.setdefault(slot, True)
                elif op.value.value == task and _acquires(before, slot, task):
                    acq.add(slot)
                    good.setdefault(slot, True)
                else:
                    good[slot] = False
            else:
                for w in ir.op_access(op)[1]:
                    good[w] = False
        effects.append((acq, rel))
    locks = frozenset(slot for slot, ok in good.items() if ok and any(slot in a for a, _ in effects))
    return locks, [(a & locks, r & locks) for a, r in effects]


def _held(system: TransitionSystem, locks: frozenset[int]) -> list[frozenset[int]]:
    """For each transition, the locks its process surely holds when it starts (a must-analysis
    over the process's steps: intersection over every way to reach the start pc)."""
    _, effects = _lock_ops(system)
    at: dict[tuple[int, int], frozenset[int]] = {}
    starts: dict[int, set[int]] = {p.pid: set() for p in system.processes}
    for state in system.initial_states:
        for p in system.processes:
            starts[p.pid].add(state[p.pc_slot])
    work = []
    for pid, pcs in starts.items():
        for pc in pcs:
            at[(pid, pc)] = frozenset()
            work.append((pid, pc))
    out_of: dict[tuple[int, int], list[Transition]] = {}
    for t in system.transitions:
        out_of.setdefault((t.pid, t.pc_from), []).append(t)
    while work:
        key = work.pop()
        for t in out_of.get(key, ()):
            acq, rel = effects[t.tid]
            after = (at[key] - rel) | acq
            nxt = (t.pid, t.pc_to)
            old = at.get(nxt)
            new = after if old is None else old & after
            if new != old:
                at[nxt] = new
                work.append(nxt)
    return [at.get((t.pid, t.pc_from), frozenset()) for t in system.transitions]


def _guard_locks(
    system: TransitionSystem, locks: frozenset[int], local: frozenset[int]
) -> list[frozenset[int]]:
    out = []
    for t in system.transitions:
        shared: set[int] = set()
        for _, reads in _guards(t, local):
            shared |= reads
        out.append(frozenset(shared) if shared and shared <= locks else frozenset())
    return out


def _reach(system: TransitionSystem) -> list[dict[int, frozenset[int]]]:
    """For each process and pc, the pcs its control flow can still reach from there (the pc
    itself included).  A step whose start pc a process can no longer reach is dead in every
    future: it can neither conflict with a step nor need enabling."""
    succ: list[dict[int, set[int]]] = [{} for _ in system.processes]
    for t in system.transitions:
        succ[t.pid].setdefault(t.pc_from, set()).add(t.pc_to)
    out: list[dict[int, frozenset[int]]] = []
    for table in succ:
        pcs = set(table) | {pc for targets in table.values() for pc in targets}
        reach: dict[int, frozenset[int]] = {}
        for start in pcs:
            seen = {start}
            work = [start]
            while work:
                for nxt in table.get(work.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        work.append(nxt)
            reach[start] = frozenset(seen)
        out.append(reach)
    return out


@dataclass
class PorStats:
    """How much the reduction saved: states expanded in full or reduced, steps not taken."""

    reduced: int = 0
    full: int = 0
    proviso: int = 0  # full expansions forced by the cycle proviso
    visible: int = 0  # full expansions forced by visibility
    pruned: int = 0  # enabled steps whose successors were not taken


@dataclass
class Dependencies:
    """Static relations between the transitions of a system."""

    dependent: list[frozenset[int]]
    guard_enablers: list[frozenset[int]]
    fail_enablers: list[frozenset[int]]  # may make a check before a false guard fail
    visible: list[bool]
    at_pc: list[dict[int, tuple[int, ...]]]  # per process: pc -> its transitions there
    pid: list[int]
    pc_from: list[int]
    held: list[frozenset[int]]  # locks surely held by a transition's process when it starts
    guard_locks: list[frozenset[int]]  # when a step's guards read only lock slots: those slots
    owner_value: list[int]  # per process: the value of a lock slot it holds (its task)
    reach: list[dict[int, frozenset[int]]]  # per process: pc -> the pcs it can still reach
    pc_to: list[int]

    @classmethod
    def of(cls, system: TransitionSystem) -> Dependencies:
        trans = system.transitions
        writers: dict[int, set[int]] = {}
        by_pid: dict[int, set[int]] = {}
        for t in trans:
            by_pid.setdefault(t.pid, set()).add(t.tid)
            for slot in t.writes:
                writers.setdefault(slot, set()).add(t.tid)
        local = frozenset(slot.index for slot in system.layout.slots if slot.owner is not None)
        enablers = []
        for t in trans:
            en: set[int] = set()
            for guard, shared in _guards(t, local):
                direct = expr_reads(guard)
                for slot in shared:
                    for w in writers.get(slot, ()):
                        if w not in en and _may_turn(trans[w], slot, guard, slot not in direct, 0):
                            en.add(w)
            enablers.append(frozenset(en - by_pid[t.pid]))
        failers = []
        for t in trans:
            en = set()
            for op, shared, direct in _before_last_guard(t, local):
                for slot in shared:
                    for w in writers.get(slot, ()):
                        if w not in en and (
                            not isinstance(op, ir.Check)
                            or _may_turn(trans[w], slot, op.cond, slot not in direct, 1)
                        ):
                            en.add(w)
            failers.append(frozenset(en - by_pid[t.pid]))
        at_pc: list[dict[int, list[int]]] = [{} for _ in system.processes]
        for t in trans:
            at_pc[t.pid].setdefault(t.pc_from, []).append(t.tid)
        return cls(
            dependent=dependence(system),
            guard_enablers=enablers,
            fail_enablers=failers,
            visible=visible(system),
            at_pc=[{pc: tuple(v) for pc, v in table.items()} for table in at_pc],
            pid=[t.pid for t in trans],
            pc_from=[t.pc_from for t in trans],
            held=_held(system, _lock_ops(system)[0]),
            guard_locks=_guard_locks(system, _lock_ops(system)[0], local),
            owner_value=[p.task_instance or -1 for p in system.processes],
            reach=_reach(system),
            pc_to=[t.pc_to for t in trans],
        )


@dataclass
class StubbornSets:
    """Chooses, in each state, the successors a reduced search has to follow."""

    system: TransitionSystem
    deps: Dependencies = field(init=False)
    stats: PorStats = field(default_factory=PorStats)

    def __post_init__(self) -> None:
        deps = self.deps = Dependencies.of(self.system)
        self.pc_slots = [p.pc_slot for p in self.system.processes]
        self.lock_slots = tuple(sorted(_lock_ops(self.system)[0]))
        self._cache: dict[object, tuple[set[int] | None, bool]] = {}
        self._parts: dict[tuple[int, bool, frozenset[int] | None, int, int], frozenset[int]] = {}
        # the program counters and lock owners of a state, in one call
        read_slots = (*self.pc_slots, *self.lock_slots)
        self._reads = itemgetter(*read_slots)  # every process has a pc: never empty
        self.owner_pid = {v: pid for pid, v in enumerate(deps.owner_value) if v >= 0}
        # Set algebra instead of per-step tests: the closure runs on every cache miss.
        by_pid: dict[int, set[int]] = {}
        for tid, pid in enumerate(deps.pid):
            by_pid.setdefault(pid, set()).add(tid)
        self.by_pid = {pid: frozenset(tids) for pid, tids in by_pid.items()}
        # per process and pc: the steps whose start pc the process can still reach from there
        self.alive_at: list[dict[int, frozenset[int]]] = [
            {pc: frozenset(t for t in by_pid.get(pid, ()) if deps.pc_from[t] in pcs)
             for pc, pcs in reach.items()}
            for pid, reach in enumerate(deps.reach)
        ]
        # per lock: the steps that cannot run while another process holds it, those that take
        # it and those that start inside one of its critical sections
        effects = _lock_ops(self.system)[1]
        self.behind = {
            lock: frozenset(t for t, held in enumerate(deps.held) if lock in held or lock in effects[t][0])
            for lock in self.lock_slots
        }
        # per step: the steps of its process whose start pc is still reachable after it
        self.after = [self.alive_at[pid].get(pc, frozenset()) for pid, pc in zip(deps.pid, deps.pc_to)]

    def closure(self, state: State, seed: tuple[int, ...], enabled: set[int]) -> set[int]:
        """The steps at their process's pc in the stubborn set grown from ``seed`` (a step of a
        process that is elsewhere is represented by the current steps that lead to it); stops
        early once it holds every enabled step."""
        return self._closure(_View(self, state, enabled), seed, enabled)

    def _closure(self, view: _View, seed: tuple[int, ...], enabled: set[int]) -> set[int]:
        """Reachability from ``seed`` over :meth:`_View.edges`, remembered per view so that
        the seeds of one state share the work."""
        memo, edges = view.memo, view.edges
        chosen = set(seed)
        if enabled <= chosen:
            return chosen
        work = list(seed)
        while work:
            t = work.pop()
            more = memo.get(t)
            if more is None:
                more = edges(t)
            new = more.difference(chosen)
            if new:
                chosen.update(new)
                if enabled <= chosen:
                    break
                work.extend(new)
        return chosen

    def _part(
        self, t: int, enabled: bool, locks: frozenset[int] | None, q: int, pc: int
    ) -> frozenset[int]:
        """The steps of process ``q``, sitting at ``pc``, that :meth:`_View.edges` asks for on
        behalf of ``t``.  ``locks`` is, when ``t`` is enabled, the locks its process holds;
        otherwise the processes holding the locks ``t``'s guard waits for (None: not all
        held).  The answer depends on nothing else, so it is remembered across states."""
        deps = self.deps
        if enabled:
            more = deps.dependent[t] & self.by_pid[q]
            if locks and q != deps.pid[t]:
                more = more - frozenset().union(*(self.behind[lock] for lock in locks))
        else:
            more = deps.guard_enablers[t] & self.by_pid[q]
            if locks is not None and q not in locks:
                more = frozenset()
            # a check before the guard can fail whoever holds the locks
            more = more | (deps.fail_enablers[t] & self.by_pid[q])
        more = more & self.alive_at[q].get(pc, frozenset())
        current = frozenset(deps.at_pc[q].get(pc, ()))
        out = more & current
        away = more - current
        if away and not current <= out:
            after = self.after
            out = out | frozenset(u for u in current if not away.isdisjoint(after[u]))
        if len(self._parts) < CACHE_LIMIT:
            self._parts[(t, enabled, locks, q, pc)] = out
        return out

    def _holders(self, state: State, locks: frozenset[int]) -> set[int] | None:
        """The processes holding ``locks`` (None when one of them is free, or there are none)."""
        if not locks:
            return None
        holders = set()
        for slot in locks:
            pid = self.owner_pid.get(state[slot])
            if pid is None:
                return None
            holders.add(pid)
        return holders

    def _locks_of(self, state: State, pid: int) -> frozenset[int]:
        value = self.deps.owner_value[pid]
        return frozenset(slot for slot in self.lock_slots if state[slot] == value)

    def choose(
        self, state: State, enabled: tuple[int, ...], failing: tuple[int, ...] = ()
    ) -> set[int] | None:
        """The enabled steps of the smallest stubborn set found, or None for "all of them".

        ``enabled`` lists the enabled steps in the order the search tries them, which the
        program counters determine.  The closure reads the state only through the program
        counters, the lock owners and the enabled steps, so its answer is cached on those."""
        if len(enabled) <= 1:
            return None
        key = (self._reads(state), enabled, failing)
        cached = self._cache.get(key)
        if cached is None:
            chosen = self._choose(state, set(enabled), frozenset(failing))
            forced = chosen is None and any(self.deps.visible[t] for t in enabled)
            cached = (chosen, forced)
            if len(self._cache) < CACHE_LIMIT:
                self._cache[key] = cached
        if cached[1]:
            self.stats.visible += 1
        return cached[0]

    def _choose(self, state: State, enabled: set[int], failing: frozenset[int]) -> set[int] | None:
        deps = self.deps
        best: set[int] | None = None
        seeds: dict[int, list[int]] = {}
        for t in sorted(enabled):
            seeds.setdefault(deps.pid[t], []).append(t)
        view = _View(self, state, enabled)
        for seed in seeds.values():
            picked = enabled.intersection(self._closure(view, tuple(seed), enabled))
            if any(deps.visible[t] for t in picked) or picked <= failing:
                # a set of failing steps only would end the search here: a step that fails
                # has no successor, so the set needs a key step that leads on
                continue
            if best is None or len(picked) < len(best):
                best = picked
                if len(best) == len(seed):
                    break
        if best is None or len(best) == len(enabled):
            return None
        return best


class _View:
    """What the closure reads of one state, computed once for all its seeds: the program
    counters, the locks each process holds, and the edges of the steps visited so far."""

    def __init__(self, sets: StubbornSets, state: State, enabled: set[int]) -> None:
        self.sets = sets
        self.state = state
        self.enabled = enabled
        self.pcs = [state[slot] for slot in sets.pc_slots]
        self._held: dict[int, frozenset[int]] = {}
        self.memo: dict[int, frozenset[int]] = {}

    def edges(self, t: int) -> frozenset[int]:
        """The steps at their process's pc that a stubborn set holding ``t`` (a step at its
        process's pc) must hold too.

        The set needs (D1) every step dependent on an enabled ``t`` and (D2) a necessary
        enabling set of a disabled one: the steps that may make its guard true, or make a check
        before the guard fail (the step then fails, a violation to find).  Two
        refinements: a step of another process that takes a lock ``t``'s process holds, or
        starts inside its critical section, cannot run before that process releases the lock
        (and every step of the process is in the set), so it is left out; a guard that waits
        only for locks that are all held is enabled only by their holders' steps (anyone else
        must take a held lock first).  Steps whose start pc their process can no longer reach
        are dead and left out.  A needed step of a process that is elsewhere stands for the
        process's current steps from whose target its start pc is still reachable (its
        necessary enabling set); those take its place."""
        sets = self.sets
        deps = sets.deps
        pid = deps.pid[t]
        enabled = t in self.enabled
        if enabled:
            locks: frozenset[int] | None = self.held(pid)
        else:
            holders = sets._holders(self.state, deps.guard_locks[t])
            locks = None if holders is None else frozenset(holders)
        parts, part = sets._parts, sets._part
        out: frozenset[int] = frozenset()
        for q, pc in enumerate(self.pcs):
            got = parts.get((t, enabled, locks, q, pc))
            if got is None:
                got = part(t, enabled, locks, q, pc)
            if got:
                out = out | got
        self.memo[t] = out
        return out

    def held(self, pid: int) -> frozenset[int]:
        """The locks ``pid`` holds."""
        out = self._held.get(pid)
        if out is None:
            out = self._held[pid] = self.sets._locks_of(self.state, pid)
        return out


def _outcome(step: object, state: State) -> State | str | None:
    """A step's result: the next state, None when disabled, or "fails: PROP"."""
    try:
        return step(state)  # type: ignore[operator,no-any-return]
    except StepFailure as failure:
        return f"fails: {failure.prop}"


def audit(compiled: CompiledSystem, deps: Dependencies, state: State) -> list[str]:
    """Problems with the independence premise in ``state``: for each pair of enabled steps the
    reduction treats as independent, each must stay enabled after the other, fail the same way
    after the other, and both orders must reach the same state."""
    problems: list[str] = []
    steps = compiled.steps
    trans = compiled.system.transitions
    enabled: list[tuple[int, State | str]] = []
    for tid, step in compiled.candidates(state):
        out = _outcome(step, state)
        if out is not None:
            enabled.append((tid, out))
    for a, (t, st) in enumerate(enabled):
        for u, su in enabled[a + 1 :]:
            if u in deps.dependent[t]:
                continue
            name = (
                f"{trans[t].label!r} ({trans[t].source.line}) and {trans[u].label!r} ({trans[u].source.line})"
            )
            t_after_u = _outcome(steps[t], su) if not isinstance(su, str) else st
            u_after_t = _outcome(steps[u], st) if not isinstance(st, str) else su
            if t_after_u is None or u_after_t is None:
                problems.append(f"{name}: one disables the other")
            elif (
                isinstance(st, str)
                or isinstance(su, str)
                or isinstance(t_after_u, str)
                or isinstance(u_after_t, str)
            ):
                if (
                    (isinstance(st, str) and t_after_u != st)
                    or (isinstance(su, str) and u_after_t != su)
                    or (not isinstance(st, str) and not isinstance(su, str))
                ):
                    problems.append(f"{name}: a check fails in one order only")
            elif t_after_u != u_after_t:
                problems.append(f"{name}: the two orders reach different states")
    return problems
