"""Control-flow graphs of processes, and their cut into atomic steps.

The front end lowers each process (its body with every call inlined) to a graph of nodes: an
``action`` runs a list of operations and goes on to one successor; a ``choice`` goes on to any
of several (either/or, choose, the two sides of an if, each side starting with a Guard).

Which nodes are steps.  Every access to shared state is a step of its own, as in the C code;
a node that touches only its own process's locals is *silent*: it runs as part of the step
before it (statement merging, as in SPIN: nobody else can observe it, so the interleavings
are the same).  Inside an ``atomic`` region every node runs as part of the region's step.
A step therefore is: one node, then every silent node after it, up to the next node that
touches shared state (or the end).  Each distinct path through silent choices is its own
transition, so transitions stay deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kverify.errors import KverifyError, Location
from kverify.ir import expr as ir
from kverify.ir.system import KernelRef, SourceRef, Transition


@dataclass
class Node:
    """One node of a process graph (mutable while the front end builds it)."""

    nid: int
    kind: str  # "action" | "choice" | "end"
    ops: list[ir.Op] = field(default_factory=list)
    succ: list[int] = field(default_factory=list)
    label: str = ""
    source: SourceRef = SourceRef("<builtin>", 0, 0)
    kernel: KernelRef | None = None
    stack: tuple[str, ...] = ()
    atomic: int | None = None  # id of the atomic region the node is in
    region_entry: bool = False  # first node of an atomic region: always a step start
    is_await: bool = False
    location: Location | None = None  # for error messages


@dataclass
class Graph:
    """The graph of one process; node 0 is the entry."""

    nodes: list[Node] = field(default_factory=list)

    def add(self, kind: str, **kw: object) -> Node:
        node = Node(len(self.nodes), kind, **kw)  # type: ignore[arg-type]
        self.nodes.append(node)
        return node


@dataclass
class _Path:
    ops: list[ir.Op]
    nodes: list[int]
    end: int


def _accesses(node: Node) -> tuple[frozenset[int], frozenset[int]]:
    reads: set[int] = set()
    writes: set[int] = set()
    for op in node.ops:
        r, w = ir.op_access(op)
        reads |= r
        writes |= w
    return frozenset(reads), frozenset(writes)


class StepCutter:
    """Cuts one process graph into transitions (see the module docstring)."""

    def __init__(self, graph: Graph, pid: int, local_slots: frozenset[int]) -> None:
        self.g = graph
        self.pid = pid
        self.local = local_slots
        self.access = [_accesses(n) for n in graph.nodes]

    def silent(self, nid: int) -> bool:
        node = self.g.nodes[nid]
        if node.kind == "end" or node.region_entry:
            return False
        if node.kind == "choice":
            return True
        reads, writes = self.access[nid]
        return (reads | writes) <= self.local

    def _follow(self, start: int) -> list[_Path]:
        """Every path of one step from ``start``: silent nodes up to the first node that is not
        (the step's action, or a whole atomic region), then silent nodes again up to the next
        node that is not: the next step's start."""
        out: list[_Path] = []
        # (node, ops so far, nodes so far, region being run, whether the action is taken,
        #  where the region's ops begin, where the action is in the nodes so far)
        Item = tuple[int, list[ir.Op], list[int], "int | None", bool, int, int]
        stack: list[Item] = [(start, [], [], None, False, 0, 0)]
        while stack:
            nid, ops, seen, region, taken, mark, first = stack.pop()
            node = self.g.nodes[nid]
            # a node met twice with no action in between: silent code that loops forever
            if nid in seen[first:]:
                raise KverifyError(
                    "a loop that never touches shared state (it would run forever in one step)",
                    node.location,
                    "put an await or a shared access in the loop, or bound it",
                )
            if not taken and node.kind != "end" and not self.silent(nid):
                taken = True
                region = node.atomic if node.region_entry else None
                mark = len(ops)
                first = len(seen)
            if (
                node.is_await
                and region is not None
                and node.atomic == region
                and any(not isinstance(op, ir.Guard) for op in ops[mark:])
            ):
                raise KverifyError(
                    "await inside an atomic block must be its first statement",
                    node.location,
                    "move the await to the start of the atomic block, or split the block",
                )
            if (
                taken
                and region is None
                and node.kind == "choice"
                and seen
                and any(not self.silent(nxt) for nxt in node.succ)
            ):
                # A choice between branches that read shared state (an if's two guards) is
                # decided by the next step, not this one: stop in front of it.
                out.append(_Path(ops, seen, nid))
                continue
            ops = ops + node.ops
            seen = [*seen, nid]
            if node.kind == "end":
                out.append(_Path(ops, seen, nid))
                continue
            for nxt in reversed(node.succ):
                nnode = self.g.nodes[nxt]
                inside = region is not None and nnode.atomic == region and not nnode.region_entry
                if inside or not taken or self.silent(nxt):
                    stack.append((nxt, ops, seen, region if inside else None, taken, mark, first))
                else:
                    out.append(_Path(ops, seen, nxt))
        return out

    def transitions(self, first_tid: int, pc_slot: int) -> tuple[list[Transition], dict[int, int]]:
        """All transitions of the process, and the map node id -> pc value."""
        pcs: dict[int, int] = {}
        todo = [0]
        found: list[tuple[int, _Path]] = []
        while todo:
            nid = todo.pop()
            if nid in pcs:
                continue
            pcs[nid] = len(pcs)
            if self.g.nodes[nid].kind == "end":
                continue
            for path in self._follow(nid):
                found.append((nid, path))
                if path.end not in pcs:
                    todo.append(path.end)
        result = []
        for start, path in found:
            result.append(self._transition(first_tid + len(result), start, path, pcs, pc_slot))
        return result, pcs

    def _transition(self, tid: int, start: int, path: _Path, pcs: dict[int, int], pc_slot: int) -> Transition:
        reads: set[int] = {pc_slot}
        writes: set[int] = {pc_slot}
        for nid in path.nodes:
            r, w = self.access[nid]
            reads |= r
            writes |= w
        main = self._main_node(path)
        return Transition(
            tid=tid,
            pid=self.pid,
            pc_from=pcs[start],
            pc_to=pcs[path.end],
            ops=tuple(path.ops),
            reads=frozenset(reads),
            writes=frozenset(writes),
            label=main.label,
            source=main.source,
            kernel=main.kernel,
            stack=main.stack,
        )

    def _main_node(self, path: _Path) -> Node:
        """The node a step is named after: its first node that is not silent bookkeeping."""
        for nid in path.nodes:
            node = self.g.nodes[nid]
            if node.label and (not self.silent(nid) or node.region_entry):
                return node
        for nid in path.nodes:
            if self.g.nodes[nid].label:
                return self.g.nodes[nid]
        return self.g.nodes[path.nodes[0]]
