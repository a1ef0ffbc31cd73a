"""The bundled specs and the variants of their models, as the bench scripts walk them."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("kverify") is None:  # a checkout where kverify is not installed
    sys.path.insert(0, str(ROOT))

from kverify import api  # noqa: E402
from kverify.ir.system import TransitionSystem  # noqa: E402


def systems(names: Sequence[str] = (), variants: Sequence[str] = ()) -> Iterator[TransitionSystem]:
    """Every spec under ``specs/`` (or those named) on every variant of its model (or those
    named), in file order."""
    for spec in sorted((ROOT / "specs").glob("*.kvs")):
        if names and spec.stem not in names:
            continue
        for variant, _ in api.variants(str(spec)):
            if not variants or variant in variants:
                yield api.load_system(str(spec), variant)
