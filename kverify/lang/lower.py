"""From AST to IR: resolve names and types, lay out the state, inline calls, build graphs.

One :class:`Lowering` takes the parsed files of a spec (the spec, its model, the model's
includes) and one variant, and produces the process graphs, the state layout and the
properties.  :mod:`kverify.lang.load` cuts the graphs into steps and computes the initial
states.  Every user mistake is a :class:`KverifyError` with its location.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kverify.errors import KverifyError, Location
from kverify.ir import expr as ir
from kverify.ir.cfg import Node
from kverify.ir.system import KernelRef, Property
from kverify.lang import ast
from kverify.lang.types import BOOL, INT, VOID, StructInfo, Type, ref_to

DEFAULT_KERNEL_FILE = "kthread.c"


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Scalar:
    loc: ir.Loc
    type: Type
    what: str


@dataclass(frozen=True)
class Inst:
    struct: str
    num: ir.Expr  # 1-based instance number
    what: str


@dataclass(frozen=True)
class Array:
    elem: Type
    length: int
    base: int  # first slot (scalar elements)
    nums: tuple[int, ...]  # instance numbers (struct elements)
    what: str


@dataclass(frozen=True)
class Head:
    struct: str
    first: ir.Loc
    capacity: int
    what: str

    def ir(self) -> ir.ListHead:
        return ir.ListHead(self.first, self.capacity, self.what)


@dataclass(frozen=True)
class NodeField:
    struct: str
    loc: ir.Loc
    num: ir.Expr
    what: str


Place = Scalar | Inst | Array | Head | NodeField


class Deferred:
    """A value known only when every instance exists (instance tables, list-node tables)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def _freeze(obj: Any) -> Any:
    """Replace every Deferred inside an IR tree by its final value."""
    if isinstance(obj, Deferred):
        return _freeze(obj.make())
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(x) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _freeze(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return dataclasses.replace(obj, **changes)
    return obj


# --------------------------------------------------------------------------- layout


@dataclass
class SlotSpec:
    name: str
    lo: int
    hi: int
    init: int
    type: Type
    owner: int | None
    ghost: bool


@dataclass
class VarSpec:
    name: str
    slots: list[int]
    kind: str
    owner: int | None
    ghost: bool


# --------------------------------------------------------------------------- lowering context


@dataclass
class Frame:
    """One inlined function (or a process body)."""

    name: str
    library: bool
    scopes: list[dict[str, Place]]
    exit: Node
    ret: Scalar | None
    ret_type: Type
    labels: dict[str, Node] = field(default_factory=dict)
    defined: dict[str, int | None] = field(default_factory=dict)  # label -> its atomic region
    gotos: list[tuple[str, ast.Span, int | None]] = field(default_factory=list)  # with the region
    locals: list[int] = field(default_factory=list)
    loops: list[tuple[Node, Node]] = field(default_factory=list)
    kernel: KernelRef | None = None
    kfile: str = DEFAULT_KERNEL_FILE


class Lowering:
    """Resolves a spec and its model into graphs, layout and properties."""

    def __init__(
        self, units: list[tuple[ast.Unit, bool]], texts: dict[str, str], variant: str | None
    ) -> None:
        self.texts = texts
        self.variant = variant if variant is not None else "reference"
        self.kernel_file = DEFAULT_KERNEL_FILE
        self.sources: dict[str, str] = {}  # model file -> the kernel file its @LINEs cite
        self.enums: dict[str, Type] = {}
        self.members: dict[str, tuple[Type, int]] = {}
        self.consts: dict[str, int] = {}
        self.structs: dict[str, StructInfo] = {}
        self.funcs: dict[str, tuple[ast.FuncDef, bool]] = {}
        self.globals: dict[str, Place] = {}
        self.slots: list[SlotSpec] = []
        self.vars: list[VarSpec] = []
        self.heads: dict[str, list[tuple[int, int]]] = {}
        self.embedded: dict[tuple[str, str], list[int]] = {}
        self.properties: dict[str, Property] = {}
        self.variants: list[tuple[str, str]] = [("reference", "the code as in the reference kthread.c")]
        self.processes: list[ast.ProcessDecl] = []
        self.inits: list[ast.InitDecl] = []
        self.prop_decls: list[ast.PropertyDecl] = []
        self.temporal_decls: list[ast.TemporalDecl] = []
        self.fair_decls: list[ast.FairDecl] = []
        # process name -> (pc slot, end pc): set once the steps are cut, for returned(P)
        self.process_pcs: dict[str, tuple[int, int]] | None = None
        self.allow: set[str] = set()
        self.ignored: dict[str, ast.IgnoreDecl] = {}  # property name -> where the spec says so
        self.ignored_seen: set[str] = set()
        self.title = ""
        self.process_tasks: dict[str, int] = {}
        self.atomic_depth = 0
        self.atomic_count = 0
        self._collect(units)

    # ------------------------------------------------------------------ errors and text

    def loc(self, span: ast.Span) -> Location | None:
        if span.line <= 0:
            return None
        lines = self.texts.get(span.file, "").splitlines()
        text = lines[span.line - 1] if span.line <= len(lines) else ""
        width = (span.end_col - span.col) if span.end_line == span.line else len(text) - span.col + 1
        return Location(span.file, span.line, span.col, text, max(1, width))

    def error(self, message: str, span: ast.Span, hint: str = "") -> KverifyError:
        return KverifyError(message, self.loc(span), hint)

    def text(self, span: ast.Span) -> str:
        lines = self.texts.get(span.file, "").splitlines()
        if not 0 < span.line <= len(lines):
            return ""
        line = lines[span.line - 1]
        part = line[span.col - 1 : span.end_col - 1] if span.end_line == span.line else line[span.col - 1 :]
        part = part.strip()
        if part.startswith("@"):
            part = part.split(None, 1)[1] if " " in part else ""
        if part.endswith("{"):
            part = part[:-1].rstrip()
        return part.rstrip(";").rstrip()

    # ------------------------------------------------------------------ declarations

    def _collect(self, units: list[tuple[ast.Unit, bool]]) -> None:
        overrides: dict[str, dict[str, ast.FuncDef]] = {}
        for unit, _ in units:  # struct names first: pointers may name a struct declared later
            for item in unit.items:
                if isinstance(item, ast.StructDecl) and item.name not in self.structs:
                    self.structs[item.name] = StructInfo(item.name, {}, -1)
        for unit, library in units:
            for item in unit.items:
                self._declare(item, library, overrides)
        known = [name for name, _ in self.variants]
        if self.variant not in known:
            spec = units[-1][0].file if units else "the spec"
            raise KverifyError(
                f"unknown variant {self.variant!r} for {spec}",
                None,
                "its model has: " + ", ".join(known) + " (see --list-variants)",
            )
        for fdef in overrides.get(self.variant, {}).values():
            _, library = self.funcs.get(fdef.name, (fdef, False))
            self.funcs[fdef.name] = (fdef, library)

    def _declare(self, item: ast.Decl, library: bool, overrides: dict[str, dict[str, ast.FuncDef]]) -> None:
        if isinstance(item, ast.EnumDecl):
            self._declare_enum(item)
        elif isinstance(item, ast.StructDecl):
            self._declare_struct(item)
        elif isinstance(item, ast.ConstDecl):
            self._check_new(item.name, item.span)
            self.consts[item.name] = self.const_value(item.value)
        elif isinstance(item, ast.FuncDef):
            if item.name in self.funcs:
                raise self.error(
                    f"function {item.name!r} is defined twice",
                    item.span,
                    "to change a function for one kernel version, override it in a variant block",
                )
            self.funcs[item.name] = (item, library)
        elif isinstance(item, ast.VariantDecl):
            if item.name in {n for n, _ in self.variants}:
                raise self.error(f"variant {item.name!r} is declared twice", item.span)
            self.variants.append((item.name, item.description))
            overrides[item.name] = {f.name: f for f in item.funcs}
        elif isinstance(item, ast.GlobalDecl):
            self._check_new(item.name, item.span)
            place = self.allocate(
                item.name, self.resolve_type(item.type, item.dims), None, item.ghost, item.span
            )
            self.globals[item.name] = place
            if item.init is not None:
                self._static_init(place, item.init)
        elif isinstance(item, ast.ProcessDecl):
            if any(p.name == item.name for p in self.processes):
                raise self.error(f"process {item.name!r} is declared twice", item.span)
            self.processes.append(item)
        elif isinstance(item, ast.InitDecl):
            first = next((i for i in self.inits if i.span.file == item.span.file), None)
            if first is not None:
                raise self.error(
                    "a second init block in this file",
                    item.span,
                    f"merge it into the init block at line {first.span.line}",
                )
            self.inits.append(item)
        elif isinstance(item, ast.PropertyDecl):
            self.prop_decls.append(item)
        elif isinstance(item, ast.TemporalDecl):
            self.temporal_decls.append(item)
        elif isinstance(item, ast.FairDecl):
            if item.kind not in ("weak", "strong"):
                raise self.error(f"fairness is weak or strong, not {item.kind!r}", item.span,
                                 "write: fair weak PROCESS;  or  fair strong PROCESS;  or  fair weak;")
            self.fair_decls.append(item)
        elif isinstance(item, ast.IgnoreDecl):
            self.ignored[item.prop] = item
        elif isinstance(item, ast.AllowDecl):
            if item.what != "deadlock":
                raise self.error(f"unknown allowance {item.what!r}", item.span, "write: allow deadlock;")
            self.allow.add(item.what)
        elif isinstance(item, ast.Source):
            self.kernel_file = item.file
            self.sources[item.span.file] = item.file
        elif isinstance(item, ast.SpecName):
            self.title = item.title

    def _check_new(self, name: str, span: ast.Span) -> None:
        if name in self.consts or name in self.members or name in self.globals:
            raise self.error(f"{name!r} is already declared", span)

    def _declare_enum(self, item: ast.EnumDecl) -> None:
        if item.name in self.enums:
            raise self.error(f"enum {item.name!r} is declared twice", item.span)
        t = Type("enum", 0, len(item.members) - 1, name=item.name, members=item.members)
        self.enums[item.name] = t
        for k, member in enumerate(item.members):
            self._check_new(member, item.span)
            self.members[member] = (t, k)

    def _declare_struct(self, item: ast.StructDecl) -> None:
        info = self.structs[item.name]
        if info.size >= 0:
            raise self.error(f"struct {item.name!r} is declared twice", item.span)
        offset = 0
        ghosts = set()
        for f in item.fields:
            if f.name in info.fields:
                raise self.error(f"field {f.name!r} is declared twice in struct {item.name}", f.span)
            t = self.resolve_type(f.type, f.dims)
            if t.kind == "struct" and self.structs[t.name].size < 0:
                raise self.error(
                    f"struct {t.name} is used before its declaration is complete",
                    f.span,
                    "declare it first, or use a pointer",
                )
            if t.kind == "list_node":
                if info.node_field is not None:
                    raise self.error("a struct may have only one list_node field", f.span)
                info.node_field = f.name
            info.fields[f.name] = (offset, t)
            if f.ghost:
                ghosts.add(f.name)
            offset += self.size(t)
        info.size = offset
        info.ghosts = frozenset(ghosts)

    def size(self, t: Type) -> int:
        if t.kind == "struct":
            return self.structs[t.name].size
        if t.kind == "list_head":
            return t.capacity
        if t.kind == "array" and t.elem is not None:
            return t.length * self.size(t.elem)
        return 1

    def const_value(self, e: ast.Expr) -> int:
        if isinstance(e, ast.Num):
            return e.value
        if isinstance(e, ast.BoolLit):
            return int(e.value)
        if isinstance(e, ast.Name) and e.ident in self.consts:
            return self.consts[e.ident]
        if isinstance(e, ast.Name) and e.ident in self.members:
            return self.members[e.ident][1]
        if isinstance(e, ast.UnaryOp) and e.op == "-":
            return -self.const_value(e.arg)
        if isinstance(e, ast.BinOp) and e.op in ("+", "-", "*"):
            a, b = self.const_value(e.left), self.const_value(e.right)
            return a + b if e.op == "+" else a - b if e.op == "-" else a * b
        raise self.error(
            "expected a constant", getattr(e, "span", ast.NOSPAN), "use a number or a const name"
        )

    def resolve_type(self, t: ast.TypeRef, dims: ast.Expr | None = None) -> Type:
        base = self._base_type(t)
        if dims is None:
            return base
        length = self.const_value(dims)
        if not 0 < length <= 64:
            raise self.error(f"array length {length} is out of range 1..64", t.span)
        return Type("array", elem=base, length=length)

    def _base_type(self, t: ast.TypeRef) -> Type:
        if t.kind == "named" and t.pointer:
            if t.name not in self.structs:
                raise self.error(f"unknown struct {t.name!r}", t.span, "declare it with struct NAME { ... }")
            return ref_to(t.name)
        if t.pointer:
            raise self.error(
                "only pointers to structs are supported",
                t.span,
                "model a pointer to a scalar as a struct with one field",
            )
        if t.kind == "bool":
            return BOOL
        if t.kind == "int":
            return INT
        if t.kind == "range":
            if t.lo > t.hi:
                raise self.error(f"empty range {t.lo}..{t.hi}", t.span)
            if t.lo < -(2**31) or t.hi >= 2**31:
                raise self.error("range too wide", t.span, "bounded integers must fit in 32 bits")
            return Type("int", t.lo, t.hi)
        if t.kind == "void":
            return VOID
        if t.kind == "list_node":
            return Type("list_node")
        if t.kind == "list_head":
            if t.name not in self.structs:
                raise self.error(f"unknown struct {t.name!r} in list_head", t.span)
            assert t.capacity is not None
            cap = self.const_value(t.capacity)
            if not 0 < cap <= 32:
                raise self.error(f"list capacity {cap} is out of range 1..32", t.span)
            return Type("list_head", name=t.name, capacity=cap)
        if t.name in self.enums:
            return self.enums[t.name]
        if t.name in self.structs:
            return Type("struct", name=t.name)
        raise self.error(
            f"unknown type {t.name!r}",
            t.span,
            "types are bool, int, int<lo..hi>, an enum, a struct, or STRUCT *",
        )

    # ------------------------------------------------------------------ allocation

    def new_slot(self, name: str, t: Type, owner: int | None, ghost: bool) -> int:
        lo, hi = (t.lo, t.hi) if t.kind != "ref" else (0, 0)
        init = 0 if lo <= 0 <= hi else lo
        self.slots.append(SlotSpec(name, lo, hi, init, t, owner, ghost))
        return len(self.slots) - 1

    def allocate(self, name: str, t: Type, owner: int | None, ghost: bool, span: ast.Span) -> Place:
        """Reserve the slots of a variable; struct instances are registered for references."""
        if t.kind == "void":
            raise self.error("a variable cannot be void", span)
        if t.kind == "array":
            assert t.elem is not None
            if t.elem.kind == "struct":
                nums = tuple(
                    self._alloc_inst(f"{name}[{k}]", t.elem.name, owner, ghost) for k in range(t.length)
                )
                return Array(t.elem, t.length, -1, nums, name)
            if not t.elem.scalar:
                raise self.error(f"arrays of {t.elem.describe()} are not supported", span)
            first = len(self.slots)
            for k in range(t.length):
                self.vars.append(
                    VarSpec(
                        f"{name}[{k}]",
                        [self.new_slot(f"{name}[{k}]", t.elem, owner, ghost)],
                        "scalar",
                        owner,
                        ghost,
                    )
                )
            return Array(t.elem, t.length, first, (), name)
        if t.kind == "struct":
            num = self._alloc_inst(name, t.name, owner, ghost)
            return Inst(t.name, ir.Const(num), name)
        if t.kind == "list_head":
            first = len(self.slots)
            elem = ref_to(t.name)
            slots = [self.new_slot(f"{name}[{k}]", elem, owner, ghost) for k in range(t.capacity)]
            self.vars.append(VarSpec(name, slots, "list", owner, ghost))
            self.heads.setdefault(t.name, []).append((first, t.capacity))
            return Head(t.name, ir.Static(first), t.capacity, name)
        if t.kind == "list_node":
            raise self.error("a list_node belongs in a struct", span)
        slot = self.new_slot(name, t, owner, ghost)
        self.vars.append(VarSpec(name, [slot], "scalar", owner, ghost))
        return Scalar(ir.Static(slot), t, name)

    def _alloc_inst(self, name: str, struct: str, owner: int | None, ghost: bool) -> int:
        info = self.structs[struct]
        assert info.bases is not None and info.names is not None
        base = len(self.slots)
        info.bases.append(base)
        info.names.append(name)
        num = len(info.bases)
        for fname, (offset, ft) in info.fields.items():
            fghost = ghost or fname in info.ghosts
            path = f"{name}.{fname}"
            assert len(self.slots) == base + offset
            if ft.kind == "struct":
                inner = self._alloc_inst(path, ft.name, owner, fghost)
                self.embedded.setdefault((struct, fname), []).append(inner)
            elif ft.kind == "list_node":
                slot = self.new_slot(path, Type("int", 0, 64), owner, fghost)
                self.vars.append(VarSpec(path, [slot], "node", owner, fghost))
            else:
                self.allocate(path, ft, owner, fghost, ast.NOSPAN)
        return num

    def _static_init(self, place: Place, value: ast.Expr) -> None:
        if not isinstance(place, Scalar) or not isinstance(place.loc, ir.Static):
            raise self.error(
                "only scalar globals take an initial value",
                getattr(value, "span", ast.NOSPAN),
                "set structs up in an init { } block",
            )
        v = self.const_value(value)
        spec = self.slots[place.loc.slot]
        if not spec.lo <= v <= spec.hi and spec.type.kind != "ref":
            raise self.error(
                f"initial value {v} is out of range {spec.lo}..{spec.hi}", getattr(value, "span", ast.NOSPAN)
            )
        spec.init = v

    # ------------------------------------------------------------------ tables

    def bases(self, struct: str) -> Deferred:
        info = self.structs[struct]
        return Deferred(lambda: tuple(info.bases or ()))

    def node_table(self, struct: str) -> Deferred:
        info = self.structs[struct]

        def make() -> ir.NodeTable:
            offset = info.fields[info.node_field or ""][0]
            slots = tuple(b + offset for b in info.bases or ())
            return ir.NodeTable(slots, tuple(self.heads.get(struct, ())), struct)

        return Deferred(make)

    def container_table(self, outer: str, fname: str, inner: str) -> Deferred:
        def make() -> tuple[int, ...]:
            count = len(self.structs[inner].bases or ())
            table = [0] * count
            for k, num in enumerate(self.embedded.get((outer, fname), [])):
                table[num - 1] = k + 1
            return tuple(table)

        return Deferred(make)

    def freeze(self, obj: Any) -> Any:
        return _freeze(obj)


# The statement and expression lowering lives in kverify.lang.body; it extends Lowering.
__all__ = [
    "Array",
    "Deferred",
    "Frame",
    "Head",
    "Inst",
    "Iterator",
    "Lowering",
    "NodeField",
    "Place",
    "Scalar",
    "SlotSpec",
    "VarSpec",
]
