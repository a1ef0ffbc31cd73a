"""Load a spec: read and parse its files, lower them, cut the steps, compute the initial states.

``load_spec(path, variant)`` is the front end's one entry point; it returns the
:class:`~kverify.ir.system.TransitionSystem` every engine reads.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from itertools import chain, count
from pathlib import Path

from kverify.errors import KverifyError, Location
from kverify.explore.compile import StepFailure, compile_system
from kverify.ir.cfg import Graph, StepCutter
from kverify.ir.expr import Expr
from kverify.ir.system import (
    Fairness,
    Layout,
    Process,
    Property,
    Slot,
    SourceRef,
    State,
    Temporal,
    Transition,
    TransitionSystem,
    ValueType,
    Variable,
)  # fmt: skip
from kverify.lang import ast
from kverify.lang.body import Body
from kverify.lang.lower import Frame, Lowering, SlotSpec
from kverify.lang.parser import parse
from kverify.lang.types import Type

INIT_STATE_LIMIT = 100_000


def _read(path: Path, where: Location | None) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KverifyError(
            f"no such file: {path}", where, "check the path (relative to the file that names it)"
        ) from None
    except UnicodeDecodeError as err:
        data = path.read_bytes()
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        text = data.splitlines()[line - 1].decode("utf-8", errors="replace") if data.strip() else ""
        raise KverifyError(
            f"byte 0x{data[err.start]:02x} is not UTF-8",
            Location(_display(path), line, col, text),
            "models and specs are UTF-8 text; re-save the file as UTF-8 (e.g. iconv -t UTF-8)",
        ) from None
    except OSError as err:
        reason = err.strerror or str(err)
        raise KverifyError(
            f"cannot read {path}: {reason}", where, "check the file's permissions and type"
        ) from None


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _span_loc(span: ast.Span, texts: dict[str, str]) -> Location:
    lines = texts.get(span.file, "").splitlines()
    text = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    return Location(span.file, span.line, span.col, text, max(1, span.end_col - span.col))


def _parse_all(spec_path: str) -> tuple[list[tuple[ast.Unit, bool]], dict[str, str], str]:
    """The spec, its model and every include, in dependency order (includes first)."""
    texts: dict[str, str] = {}
    units: list[tuple[ast.Unit, bool]] = []
    seen: set[Path] = set()
    model_file = ""

    def visit(path: Path, library: bool, where: Location | None) -> None:
        nonlocal model_file
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)
        name = _display(path)
        text = _read(path, where)
        texts[name] = text
        unit = parse(text, name)
        for item in unit.items:
            if isinstance(item, (ast.Include, ast.Use)):
                target = path.parent / item.path
                if isinstance(item, ast.Use):
                    model_file = _display(target.resolve())
                visit(target, isinstance(item, ast.Include) or library, _span_loc(item.span, texts))
        units.append((unit, library))

    spec = Path(spec_path)
    if not spec.exists():
        raise KverifyError(f"no such spec file: {spec_path}", None, "give the path of a .kvs file")
    visit(spec, False, None)
    return units, texts, model_file


def list_variants(spec_path: str) -> list[tuple[str, str]]:
    """(name, one-line description) of every variant of the spec's model; "reference" first."""
    units, texts, _ = _parse_all(spec_path)
    return Lowering(units, texts, None).variants


def load_spec(spec_path: str, variant: str | None = None) -> TransitionSystem:
    """Parse, check and lower a spec and its model into a transition system."""
    units, texts, model_file = _parse_all(spec_path)
    low = Lowering(units, texts, variant)
    if not low.processes:
        raise KverifyError(f"{spec_path} declares no process", None, "add: process cpu0 { ... }")
    return _Assembler(low, spec_path, model_file).build()


class _Assembler:
    """Lowers the processes, cuts their steps and puts the transition system together."""

    def __init__(self, low: Lowering, spec_path: str, model_file: str) -> None:
        self.low = low
        self.spec_path = spec_path
        self.model_file = model_file
        self.pc_names: dict[int, tuple[str, ...]] = {}

    def _tasks(self) -> list[int | None]:
        if "task_struct" not in self.low.structs:
            return [None] * len(self.low.processes)
        tasks: list[int | None] = []
        for p in self.low.processes:
            num = self.low._alloc_inst(p.name, "task_struct", None, False)
            self.low.process_tasks[p.name] = num
            tasks.append(num)
        return tasks

    def _graph(
        self, pid: int, name: str, body: ast.Block, span: ast.Span, task: int | None
    ) -> tuple[Body, int]:
        pc = self.low.new_slot(f"{name}.pc", Type("int", 0, 0), pid, False)
        lowering = Body(self.low, pid, name, task)
        lowering.process(body, span)
        return lowering, pc

    def build(self) -> TransitionSystem:
        low = self.low
        tasks = self._tasks()
        bodies = [self._graph(k, p.name, p.body, p.span, tasks[k]) for k, p in enumerate(low.processes)]
        init_pid = len(bodies)
        init_body = None
        if low.inits:
            block = ast.Block(tuple(s for i in low.inits for s in i.body.body), low.inits[0].span)
            init_task = (
                low._alloc_inst("init", "task_struct", None, False) if "task_struct" in low.structs else None
            )
            init_body = self._graph(init_pid, "init", block, low.inits[0].span, init_task)
        props = self._state_properties()
        for name, decl in low.ignored.items():
            if name not in low.ignored_seen:
                raise low.error(
                    f"ignore: the model has no assert or WARN named {name!r}",
                    decl.span,
                    "ignore names a property of the model's code; see the verdict list",
                )
        for body, _ in bodies + ([init_body] if init_body else []):
            for node in body.g.nodes:
                node.ops = list(low.freeze(node.ops))
        transitions: list[Transition] = []
        processes: list[Process] = []
        init_transitions: list[Transition] = []
        for pid, (body, pc) in enumerate(bodies + ([init_body] if init_body else [])):
            graph = body.g
            cutter = StepCutter(graph, pid, frozenset(body.local_slots | {pc}))
            target = init_transitions if pid == init_pid else transitions
            trans, pcs = cutter.transitions(len(target), pc)
            target.extend(trans)
            for node in graph.nodes:  # a process that loops forever still has an end pc
                if node.kind == "end" and node.nid not in pcs:
                    pcs[node.nid] = len(pcs)
            end_pc = next(v for nid, v in pcs.items() if graph.nodes[nid].kind == "end")
            names = [""] * len(pcs)
            for nid, v in pcs.items():
                names[v] = graph.nodes[nid].label or _choice_label(graph, nid) or "(start)"
            self.pc_names[pc] = tuple(names)
            low.slots[pc].hi = len(pcs) - 1
            decl_name = low.processes[pid].name if pid < init_pid else "init"
            daemon = low.processes[pid].daemon if pid < init_pid else False
            task = tasks[pid] if pid < init_pid else None
            processes.append(Process(pid, decl_name, pc, end_pc, daemon, task))
        low.process_pcs = {p.name: (p.pc_slot, p.end_pc) for p in processes[: len(bodies)]}
        props.extend(self._temporal_properties(props))
        fairness = self._fairness(processes[: len(bodies)])
        transitions = [low.freeze(t) for t in transitions]
        init_transitions = [low.freeze(t) for t in init_transitions]
        layout = self._layout()
        main = tuple(processes[: len(bodies)])
        base = TransitionSystem(
            name=Path(self.spec_path).stem,
            variant=low.variant,
            layout=layout,
            processes=main,
            transitions=tuple(transitions),
            initial_states=(layout.initial(),),
            properties=self._properties(props),
            spec_file=_display(Path(self.spec_path)),
            model_file=self.model_file,
            check_deadlock="deadlock" not in low.allow,
            fairness=fairness,
        )
        if init_body is None:
            return base
        initial = self._run_init(layout, processes, init_pid, init_transitions)
        from dataclasses import replace

        return replace(base, initial_states=tuple(initial))

    def _state_properties(self) -> list[Property]:
        out = []
        for decl in self.low.prop_decls:
            body = Body(self.low, None, "property", None)
            body.frames.append(Frame(decl.name, False, [{}], body.nop(), None, Type("void")))
            size = len(body.g.nodes)
            expr, _ = body.value(decl.expr)
            if len(body.g.nodes) != size:
                raise self.low.error(
                    "properties cannot call functions (only list_empty and similar builtins)", decl.expr.span
                )
            _check_reserved(self.low, decl.name, decl.span)
            if decl.name in self.low.properties or any(p.name == decl.name for p in out):
                raise self.low.error(f"property {decl.name!r} is declared twice", decl.span)
            out.append(
                Property(
                    decl.name,
                    decl.kind,
                    SourceRef(decl.span.file, decl.span.line, decl.span.col),
                    self.low.freeze(expr),
                    self.low.text(decl.expr.span),
                )
            )
        return out

    def _predicate(self, expr: ast.Expr) -> Expr:
        body = Body(self.low, None, "property", None)
        body.frames.append(Frame("property", False, [{}], body.nop(), None, Type("void")))
        size = len(body.g.nodes)
        value, _ = body.value(expr)
        if len(body.g.nodes) != size:
            raise self.low.error(
                "properties cannot call functions (only list_empty, returned and similar builtins)",
                expr.span,
            )
        frozen: Expr = self.low.freeze(value)
        return frozen

    def _temporal_properties(self, declared: list[Property]) -> list[Property]:
        out: list[Property] = []
        for decl in self.low.temporal_decls:
            _check_reserved(self.low, decl.name, decl.span)
            if decl.name in self.low.properties or any(p.name == decl.name for p in declared + out):
                raise self.low.error(f"property {decl.name!r} is declared twice", decl.span)
            p = self._predicate(decl.p)
            q = self._predicate(decl.q) if decl.q is not None else None
            text = _span_text(self.low.texts, decl.span)
            text = " ".join(text.split(":", 1)[1].split()).rstrip(";").strip() if ":" in text else text
            where = SourceRef(decl.span.file, decl.span.line, decl.span.col)
            out.append(Property(decl.name, "liveness", where, None, text, temporal=Temporal(decl.kind, p, q)))
        return out

    def _fairness(self, processes: list[Process]) -> tuple[Fairness, ...]:
        by_name = {p.name: p.pid for p in processes}
        kinds: dict[int, str] = {}
        for decl in self.low.fair_decls:
            if decl.process is not None and decl.process not in by_name:
                raise self.low.error(f"fair: no process named {decl.process!r}", decl.span,
                                     "processes: " + ", ".join(by_name))
            pids = [by_name[decl.process]] if decl.process is not None else list(by_name.values())
            for pid in pids:
                if kinds.get(pid) != "strong":  # strong implies weak
                    kinds[pid] = decl.kind
        return tuple(Fairness(kind, pid) for pid, kind in sorted(kinds.items()))

    def _properties(self, declared: list[Property]) -> tuple[Property, ...]:
        props = list(declared) + list(self.low.properties.values())
        if "deadlock" not in self.low.allow:
            props.append(
                Property(
                    "deadlock",
                    "deadlock",
                    None,
                    None,
                    "no reachable state where every process is blocked but some has not finished",
                )
            )
        props.append(
            Property(
                "model-error",
                "model-error",
                None,
                None,
                "no value out of range, null dereference or list corruption",
            )
        )
        return tuple(props)

    def _vtype(self, spec: SlotSpec, index: int) -> ValueType:
        t = spec.type
        if index in self.pc_names:
            return ValueType("pc", self.pc_names[index])
        if t.kind == "bool":
            return ValueType("bool")
        if t.kind == "enum":
            return ValueType("enum", t.members)
        if t.kind == "ref":
            names = self.low.structs[t.name].names or [] if t.name in self.low.structs else []
            return ValueType("ref", ("null", *("&" + n for n in names)))
        return ValueType("int")

    def _layout(self) -> Layout:
        low = self.low
        head_names = {v.slots[0]: v.name for v in low.vars if v.kind == "list"}
        slots = []
        node_slots = {v.slots[0] for v in low.vars if v.kind == "node"}
        node_struct: dict[int, str] = {}
        for sname, info in low.structs.items():
            if info.node_field:
                off = info.fields[info.node_field][0]
                for b in info.bases or []:
                    node_struct[b + off] = sname
        for k, spec in enumerate(low.slots):
            hi = spec.hi
            if spec.type.kind == "ref":
                hi = len(low.structs[spec.type.name].bases or []) if spec.type.name in low.structs else 0
            vtype = self._vtype(spec, k)
            if k in node_slots:
                heads = low.heads.get(node_struct.get(k, ""), [])
                vtype = ValueType(
                    "node", ("(none)", *(head_names.get(first, "?") for first, _ in heads))
                )
                hi = len(heads)
            slots.append(Slot(k, spec.name, spec.lo, hi, spec.init, vtype, spec.owner, spec.ghost))
        variables = [
            Variable(
                v.name, tuple(v.slots), v.kind if v.kind in ("list", "local") else "scalar", v.owner, v.ghost
            )
            for v in low.vars
        ]
        for pc in self.pc_names:
            variables.append(Variable(low.slots[pc].name, (pc,), "pc", low.slots[pc].owner))
        return _unique_names(slots, variables)

    def _run_init(
        self, layout: Layout, processes: list[Process], init_pid: int, transitions: list[Transition]
    ) -> list[State]:
        proc = processes[init_pid]  # the init transitions carry pid init_pid
        system = TransitionSystem(
            "init",
            self.low.variant,
            layout,
            tuple(processes),
            tuple(transitions),
            (layout.initial(),),
            (),
            check_deadlock=False,
        )
        compiled = compile_system(system)
        start = layout.initial()
        seen = {start}
        frontier = [start]
        ends: list[State] = []
        while frontier:
            state = frontier.pop()
            successors = []
            for tid, step in compiled.candidates(state):
                try:
                    nxt = step(state)
                except StepFailure as failure:
                    t = transitions[tid]
                    raise KverifyError(
                        f"the init block fails: {failure.message}", _src_loc(t.source), f"at: {t.label}"
                    ) from None
                if nxt is not None:
                    successors.append(nxt)
            if not successors:
                pc = state[proc.pc_slot]
                if pc != proc.end_pc:
                    label = layout.slots[proc.pc_slot].vtype.show(pc)
                    waiting = [t for t in transitions if t.pc_from == pc]
                    raise KverifyError(
                        f"the init block blocks at: {label}",
                        _src_loc(waiting[0].source) if waiting else None,
                        "init runs alone before the processes start; it must not wait",
                    )
                ends.append(state)
            for nxt in successors:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
            if len(seen) > INIT_STATE_LIMIT:
                raise KverifyError("the init block has too many outcomes", None, "reduce the choices in init")
        if not ends:
            raise KverifyError(
                "the init block never ends: every run of it loops forever",
                _src_loc(transitions[0].source) if transitions else None,
                "init must run to its end before the processes start; move the loop to a process",
            )
        return sorted(ends)


RESERVED_PROPERTIES = ("deadlock", "model-error")  # the properties every check reports


def _check_reserved(low: Lowering, name: str, span: ast.Span) -> None:
    if name in RESERVED_PROPERTIES:
        raise low.error(
            f"property name {name!r} is reserved: every check reports a property of that name",
            span,
            f"rename it, e.g. {name.replace('-', '_')}_check",
        )


def _span_text(texts: dict[str, str], span: ast.Span) -> str:
    """The source text a span covers, over several lines."""
    lines = texts.get(span.file, "").splitlines()[span.line - 1 : span.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.col - 1 : span.end_col - 1]
    return "\n".join([lines[0][span.col - 1 :], *lines[1:-1], lines[-1][: span.end_col - 1]])


def _choice_label(graph: Graph, nid: int) -> str:
    """A pc in front of a choice (an if or a loop test on shared state) is named after it."""
    node = graph.nodes[nid]
    if node.kind != "choice":
        return ""
    for nxt in node.succ:
        label = graph.nodes[nxt].label
        if label:
            return label.removesuffix(" [no]").removesuffix(" [exit]")
    return ""


def _src_loc(src: SourceRef) -> Location | None:
    if src.line <= 0:
        return None
    try:
        text = Path(src.file).read_text().splitlines()[src.line - 1]
    except (OSError, IndexError):
        text = ""
    return Location(src.file, src.line, src.col, text)


def _unique_names(slots: list[Slot], variables: list[Variable]) -> Layout:
    """The layout, with every variable named once.  A process's or a function's local can
    share its path with a struct field (``t1.kthread.data`` is the ``data`` local of
    ``kthread()`` run by ``t1`` and the ``data`` field of ``t1``'s ``struct kthread``; a
    process ``p`` with a local ``x`` beside a global struct ``p``).  Traces, ITF states and
    replay diffs key values by name: the shared variable keeps the name, a local becomes
    ``NAME (local)``, any other ``NAME (2)``."""
    taken = Counter(v.name for v in variables)
    keeper: dict[str, int] = {}  # name -> the variable that keeps it: the first shared one
    for k, v in enumerate(variables):
        if taken[v.name] > 1 and (
            v.name not in keeper or (_is_shared(v) and not _is_shared(variables[keeper[v.name]]))
        ):
            keeper[v.name] = k
    out: list[Variable] = []
    for k, v in enumerate(variables):
        if v.name in keeper and keeper[v.name] != k:
            # a local: NAME (local), NAME (local 2), ...; anything else: NAME (2), NAME (3), ...
            if _is_shared(v):
                labels: Iterator[str] = map(str, count(2))
            else:
                labels = chain(["local"], (f"local {n}" for n in count(2)))
            name = next(n for n in (f"{v.name} ({label})" for label in labels) if n not in taken)
            taken[name] += 1
            for i in v.slots:
                if slots[i].name == v.name:
                    slots[i] = replace(slots[i], name=name)
            v = replace(v, name=name)
        out.append(v)
    return Layout(tuple(slots), tuple(out))


def _is_shared(v: Variable) -> bool:
    return v.owner is None and v.kind != "local"
