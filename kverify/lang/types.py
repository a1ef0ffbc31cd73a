"""Semantic types of the modeling language and the state layout they occupy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Type:
    """A resolved type.

    kinds: ``bool``, ``int`` (``lo..hi``), ``enum`` (``name``, ``members``), ``ref`` (a pointer to
    the struct ``name``; 0 is null), ``struct`` (an instance, not a value), ``list_head``
    (``name`` the element struct, ``capacity``), ``list_node``, ``array`` (``elem``, ``length``),
    ``void``.
    """

    kind: str
    lo: int = 0
    hi: int = 0
    name: str = ""
    members: tuple[str, ...] = ()
    capacity: int = 0
    elem: Type | None = None
    length: int = 0

    @property
    def scalar(self) -> bool:
        return self.kind in ("bool", "int", "enum", "ref")

    def describe(self) -> str:
        if self.kind == "int":
            return f"int<{self.lo}..{self.hi}>"
        if self.kind == "enum":
            return f"enum {self.name}"
        if self.kind == "ref":
            return f"{self.name} *"
        if self.kind == "struct":
            return f"struct {self.name}"
        if self.kind == "list_head":
            return f"list_head<{self.name}, {self.capacity}>"
        if self.kind == "array" and self.elem is not None:
            return f"{self.elem.describe()}[{self.length}]"
        return self.kind


BOOL = Type("bool", 0, 1)
INT = Type("int", -128, 127)
VOID = Type("void")
LIST_NODE = Type("list_node")


def ref_to(struct: str, count: int = 0) -> Type:
    return Type("ref", 0, count, name=struct)


@dataclass
class StructInfo:
    """A struct's fields (name -> (offset, type)), size in slots and its instances."""

    name: str
    fields: dict[str, tuple[int, Type]]
    size: int
    ghosts: frozenset[str] = frozenset()
    node_field: str | None = None  # the list_node field, if any
    bases: list[int] | None = None  # first slot of each instance, in instance order
    names: list[str] | None = None  # display name of each instance ("dw.work")

    def __post_init__(self) -> None:
        self.bases = [] if self.bases is None else self.bases
        self.names = [] if self.names is None else self.names


def compatible(target: Type, value: Type) -> bool:
    """May a value of type ``value`` be stored in a place of type ``target``?"""
    numeric = ("bool", "int")
    if target.kind in numeric and value.kind in numeric:
        return True
    if target.kind == "enum" and value.kind == "enum":
        return target.name == value.name
    if target.kind == "enum" and value.kind == "int":
        return False
    if target.kind == "ref" and value.kind == "ref":
        return value.name in ("", target.name)  # "" is null
    return False
