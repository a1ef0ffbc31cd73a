"""Argument types shared by the subcommands: counts and seconds, refused with a clear message
(argparse turns the ArgumentTypeError into a usage error, exit 2)."""

from __future__ import annotations

import argparse
import math


def count(text: str) -> int:
    """A whole number >= 0 (``--max-states``, ``--bmc``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def positive(text: str) -> int:
    """A whole number >= 1 (``--k-induction``)."""
    value = count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def seconds(text: str) -> float:
    """A finite number of seconds >= 0 (``--time-limit``, ``--timeout``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number of seconds: {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value
