"""Traces in the Informal Trace Format (ITF), the JSON trace format Apalache and Quint share.

A trace becomes ``{"#meta": {...}, "vars": [...], "states": [...], "loop": k}``.  Each state
maps every variable of the layout, under its kverify name (``dw.work.canceling``), to an ITF
value: a bool is a JSON boolean, an integer or program counter ``{"#bigint": "n"}``, an enum
member or reference its name as a string (``"TASK_RUNNING"``, ``"&worker"``, ``"null"``), and
a bounded list a JSON array of its element names.  Slots that belong to no named variable are
written under their slot name, so a state is complete and decodes back to the exact tuple.

State 0 is the initial state; state ``k`` is the state after step ``k``, and its ``#meta``
names the transition that produced it (``tid``, process, statement, model and kernel line).
The top-level ``#meta`` keeps what a replay needs: the spec path, the variant, the violated
property and the transition ids in order.  ``loop`` is the index of the state a lasso returns
to (absent for a finite trace).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kverify import __version__
from kverify.errors import KverifyError
from kverify.ir.system import Layout, State, TransitionSystem
from kverify.trace.build import build_trace
from kverify.trace.model import Trace, TraceViolation

FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


class ItfError(KverifyError):
    """An ITF document that kverify cannot read, or that does not fit the model's layout.

    ``state`` is the index of the offending state when there is one."""

    def __init__(self, message: str, state: int | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.state = state


@dataclass(frozen=True)
class ItfVar:
    """One ITF variable: a name, how its slots are shown (``kind``) and the slots themselves."""

    name: str
    kind: str  # "list" or "scalar"
    slots: tuple[int, ...]


def itf_vars(layout: Layout) -> tuple[ItfVar, ...]:
    """The layout's variables plus every slot no variable covers, in layout order."""
    out: list[ItfVar] = []
    covered: set[int] = set()
    for v in layout.variables:
        out.append(ItfVar(v.name, "list" if v.kind == "list" else "scalar", v.slots))
        covered.update(v.slots)
    names = {v.name for v in out}
    for slot in layout.slots:
        if slot.index not in covered:
            name = slot.name if slot.name not in names else f"{slot.name}#{slot.index}"
            out.append(ItfVar(name, "scalar", (slot.index,)))
            names.add(name)
    return tuple(out)


# --------------------------------------------------------------------------- encoding


def encode_value(layout: Layout, slot_index: int, value: int) -> Any:
    """One slot's integer as an ITF value."""
    vtype = layout.slots[slot_index].vtype
    if vtype.kind == "bool":
        return bool(value)
    if vtype.names and vtype.kind != "pc":
        index = value - vtype.offset
        if 0 <= index < len(vtype.names):
            return vtype.names[index]
    return {"#bigint": str(value)}


def encode_state(layout: Layout, variables: tuple[ItfVar, ...], state: State) -> dict[str, Any]:
    """A state as an ITF state object (without ``#meta``)."""
    out: dict[str, Any] = {}
    for var in variables:
        if var.kind == "list":
            out[var.name] = [encode_value(layout, i, state[i]) for i in var.slots if state[i]]
        else:
            out[var.name] = encode_value(layout, var.slots[0], state[var.slots[0]])
    return out


def trace_to_itf(
    trace: Trace, system: TransitionSystem, spec: str = "", variant: str = ""
) -> dict[str, Any]:
    """The trace as an ITF document; ``spec`` and ``variant`` say how to load the model again."""
    layout = system.layout
    variables = itf_vars(layout)
    states = [{"#meta": {"index": 0}, **encode_state(layout, variables, trace.initial)}]
    for k, step in enumerate(trace.steps, start=1):
        meta: dict[str, Any] = {
            "index": k,
            "tid": step.tid,
            "process": step.process,
            "action": step.label,
            "source": str(step.source),
        }
        if step.kernel is not None:
            meta["kernel"] = str(step.kernel)
        if step.partial:
            meta["partial"] = True
        states.append({"#meta": meta, **encode_state(layout, variables, step.state)})
    doc: dict[str, Any] = {
        "#meta": _document_meta(trace, system, spec, variant),
        "vars": [v.name for v in variables],
        "states": states,
    }
    if trace.loop is not None:
        doc["loop"] = trace.loop
    return doc


def _document_meta(
    trace: Trace, system: TransitionSystem, spec: str, variant: str
) -> dict[str, Any]:
    v = trace.violation
    return {
        "format": "ITF",
        "format-description": FORMAT_DESCRIPTION,
        "source": spec or system.spec_file,
        "description": f"kverify {__version__} counterexample"
        + (f" for {v.prop}" if v is not None else ""),
        "kverify": __version__,
        "spec": spec or system.spec_file,
        "model": system.model_file,
        "system": system.name,
        "variant": variant or system.variant,
        "processes": list(trace.processes),
        "tids": [step.tid for step in trace.steps],
        "partial_last": bool(trace.steps) and trace.steps[-1].partial,
        "violation": (
            {"property": v.prop, "kind": v.kind, "message": v.message} if v is not None else None
        ),
    }


# --------------------------------------------------------------------------- decoding


def decode_value(layout: Layout, slot_index: int, value: Any, where: str) -> int:
    """An ITF value back to one slot's integer; raise :class:`ItfError` if it does not fit."""
    slot = layout.slots[slot_index]
    vtype = slot.vtype
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, dict) and set(value) == {"#bigint"}:
        try:
            number = int(value["#bigint"])
        except (TypeError, ValueError):
            raise ItfError(f"{where}: {value['#bigint']!r} is not an integer") from None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value in vtype.names:
        if vtype.names.count(value) > 1:
            raise ItfError(f"{where}: {value!r} names more than one value")
        number = vtype.names.index(value) + vtype.offset
    else:
        raise ItfError(f"{where}: {value!r} is not a value of {slot.name}")
    if not slot.lo <= number <= slot.hi:
        raise ItfError(f"{where}: {number} is outside {slot.lo}..{slot.hi}")
    return number


def decode_state(
    layout: Layout, variables: tuple[ItfVar, ...], obj: Any, index: int
) -> State:
    """An ITF state object back to a state tuple (every variable must be present)."""
    if not isinstance(obj, dict):
        raise ItfError(f"state {index} is not a JSON object", state=index)
    values = [0] * len(layout.slots)
    for var in variables:
        where = f"state {index}, {var.name}"
        if var.name not in obj:
            raise ItfError(f"{where}: missing", state=index)
        value = obj[var.name]
        try:
            _decode_var(layout, var, value, values, where)
        except ItfError as exc:
            raise ItfError(exc.message, state=index) from None
    return tuple(values)


def _decode_var(layout: Layout, var: ItfVar, value: Any, values: list[int], where: str) -> None:
    if var.kind != "list":
        values[var.slots[0]] = decode_value(layout, var.slots[0], value, where)
        return
    if not isinstance(value, list) or len(value) > len(var.slots):
        raise ItfError(f"{where}: expected a list of at most {len(var.slots)} elements")
    for k, slot in enumerate(var.slots):
        values[slot] = decode_value(layout, slot, value[k], where) if k < len(value) else 0


@dataclass(frozen=True)
class ItfTrace:
    """A decoded ITF document: the states, the transition ids and what ``#meta`` says."""

    states: tuple[State, ...]
    tids: tuple[int, ...]
    partial_last: bool
    violation: TraceViolation | None
    loop: int | None
    meta: dict[str, Any]


def read_meta(doc: Any) -> dict[str, Any]:
    """The top-level ``#meta`` of an ITF document (empty when absent)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list):
        raise ItfError("not an ITF trace: expected an object with a \"states\" list")
    meta = doc.get("#meta", {})
    return meta if isinstance(meta, dict) else {}


def layout_difference(doc: Any, layout: Layout, shown: int = 3) -> str:
    """How the variables an ITF document lists (its ``vars``) differ from ``layout``'s, in
    words; "" when they are the same (in any order) or the document lists none."""
    recorded = doc.get("vars") if isinstance(doc, dict) else None
    if not isinstance(recorded, list) or not all(isinstance(n, str) for n in recorded):
        return ""  # not kverify's: the states are decoded by the model's own names
    names = [v.name for v in itf_vars(layout)]
    in_trace, in_model = set(recorded), set(names)
    missing = [n for n in names if n not in in_trace]
    unknown = [n for n in recorded if n not in in_model]
    if not (missing or unknown):
        return ""

    def some(items: list[str]) -> str:
        more = f", and {len(items) - shown} more" if len(items) > shown else ""
        return ", ".join(items[:shown]) + more

    parts = []
    if missing:
        parts.append(f"{len(missing)} of the model's variables are not in the trace ({some(missing)})")
    if unknown:
        parts.append(f"{len(unknown)} of the trace's variables are not in the model ({some(unknown)})")
    return "the trace was recorded on another state layout: " + "; ".join(parts)


def decode_itf(doc: Any, layout: Layout) -> ItfTrace:
    """Decode an ITF document written by :func:`trace_to_itf` against ``layout``."""
    meta = read_meta(doc)
    variables = itf_vars(layout)
    raw_states = doc["states"]
    if not raw_states:
        raise ItfError("the trace has no states")
    states = tuple(decode_state(layout, variables, s, k) for k, s in enumerate(raw_states))
    tids = tuple(_tid(s, k, meta) for k, s in enumerate(raw_states) if k > 0)
    last_meta = raw_states[-1].get("#meta", {}) if len(raw_states) > 1 else {}
    if not isinstance(last_meta, dict):
        last = len(raw_states) - 1
        raise ItfError(f"state {last}: its #meta is not a JSON object", state=last)
    partial = bool(last_meta.get("partial", meta.get("partial_last", False)))
    loop = doc.get("loop")
    if loop is not None and not (isinstance(loop, int) and 0 <= loop < len(states)):
        raise ItfError(f"loop index {loop!r} is not the index of a state")
    return ItfTrace(states, tids, partial, _violation(meta), loop, meta)


def _tid(state: dict[str, Any], index: int, meta: dict[str, Any]) -> int:
    smeta = state.get("#meta", {}) if isinstance(state, dict) else {}
    tid = smeta.get("tid") if isinstance(smeta, dict) else None
    if tid is None:
        tids = meta.get("tids", [])
        tid = tids[index - 1] if isinstance(tids, list) and index - 1 < len(tids) else None
    if not isinstance(tid, int) or isinstance(tid, bool):
        raise ItfError(
            f"state {index}: no transition id in its #meta",
            state=index,
            hint="kverify replays ITF traces that kverify wrote (they name each step's tid)",
        )
    return tid


def _violation(meta: dict[str, Any]) -> TraceViolation | None:
    v = meta.get("violation")
    if not isinstance(v, dict) or "property" not in v:
        return None
    return TraceViolation(str(v["property"]), str(v.get("kind", "")), str(v.get("message", "")))


def _identity(system: TransitionSystem, tid: int) -> tuple[str, str, str]:
    t = system.transitions[tid]
    return system.processes[t.pid].name, t.label, _place(str(t.source))


def _place(source: object) -> str:
    """``file:line:col`` with the file's directory dropped (paths depend on the directory a
    check ran in)."""
    text = str(source)
    parts = text.rsplit(":", 2)
    return ":".join([os.path.basename(parts[0]), *parts[1:]]) if len(parts) == 3 else text


def _fits(
    fire: Callable[[int, State], object] | None, tid: int, before: State, after: State, failing: bool
) -> bool:
    """Transition ``tid`` from the recorded state ``before`` reaches ``after`` (or, for the
    failing last step, fails); True when there is no way to fire it."""
    if fire is None:
        return True
    outcome = fire(tid, before)
    return isinstance(outcome, str) if failing else outcome == after


def _matched_tids(
    doc: Any, system: TransitionSystem, decoded: ItfTrace, fire: Callable[[int, State], object] | None
) -> tuple[int, ...]:
    """The recorded transition ids, each checked against what its state's ``#meta`` says the
    step was (process, statement, model line).  Ids are numbered per variant: on another
    variant the same statement may have another id, so a step whose id names another
    statement is matched by what it was, among the transitions that go from the process's
    recorded pc to its recorded next pc and, given ``fire`` (a step's outcome in a state),
    reach the recorded state; unless exactly one matches, the recorded id stays and the
    replay reports where it stops fitting."""
    out = []
    for k, tid in enumerate(decoded.tids, start=1):
        smeta = doc["states"][k].get("#meta") if isinstance(doc["states"][k], dict) else None
        want = (
            (smeta.get("process"), smeta.get("action"), _place(smeta.get("source")))
            if isinstance(smeta, dict) and smeta.get("source") is not None else None
        )
        before, after = decoded.states[k - 1], decoded.states[k]
        # a failing last step stops before its pc is written: its recorded pc is its start
        failing = decoded.partial_last and k == len(decoded.tids)
        if (
            want is None
            or None in want
            or (
                0 <= tid < len(system.transitions)
                and _identity(system, tid) == want
                and _fits(fire, tid, before, after, failing)
            )
        ):
            out.append(tid)
            continue
        found = [
            t.tid
            for t in system.transitions
            if _identity(system, t.tid) == want
            and before[system.processes[t.pid].pc_slot] == t.pc_from
            and after[system.processes[t.pid].pc_slot] == (t.pc_from if failing else t.pc_to)
        ]
        if len(found) > 1:
            found = [u for u in found if _fits(fire, u, before, after, failing)] or found
        out.append(found[0] if len(found) == 1 else tid)
    return tuple(out)


def itf_to_trace(
    doc: Any, system: TransitionSystem, fire: Callable[[int, State], object] | None = None
) -> Trace:
    """Rebuild a :class:`Trace` from an ITF document (the states as recorded, not replayed).
    On the variant it was recorded on, the transition ids are the steps (an edited id is an
    edited schedule).  On another variant they are matched by what each step was (see
    :func:`_matched_tids`); ``fire(tid, state)``, the compiled step's outcome, picks among
    transitions that share a statement."""
    decoded = decode_itf(doc, system.layout)
    recorded_on = decoded.meta.get("variant")
    same_variant = not isinstance(recorded_on, str) or recorded_on == system.variant
    tids = decoded.tids if same_variant else _matched_tids(doc, system, decoded, fire)
    for k, tid in enumerate(tids, start=1):
        if not 0 <= tid < len(system.transitions):
            raise ItfError(f"step {k}: no transition {tid} in the model", state=k)
    path = list(zip(tids, decoded.states[1:]))
    return build_trace(
        system,
        decoded.states[0],
        path,
        decoded.violation,
        partial_last=decoded.partial_last,
        loop=decoded.loop,
    )
