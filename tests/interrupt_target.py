"""A long check for the Ctrl-C tests: ``python interrupt_target.py SPEC [bug]``.

Four processes step a shared counter (every pair of steps conflicts, so no reduction shrinks
the state space: about 2.8 million states).  With ``bug`` a fifth process fails a check at its
first step, so a violation is found at once while the search goes on.
"""

from __future__ import annotations

import sys

import ir_builder as ex

from kverify import api
from kverify.cli import main
from kverify.ir import expr as ir


def long_system(bug: bool):  # type: ignore[no-untyped-def]
    b = ex.Builder("long")
    top = 40
    x = b.var("x", 0, 4 * top)
    for k in range(4):
        pid = b.process(f"p{k}", top)
        for pc in range(top):
            b.step(pid, pc, pc + 1, [ex.assign(x, ex.binary("+", ex.read(x), ex.const(1)), 0, 4 * top)])
    if bug:
        pid = b.process("bug", 1)
        b.step(pid, 0, 1, [ir.Check("early", ex.const(0), "fails at once")], "warn_on(1)")
        b.check_prop("early")
    return b.build(check_deadlock=False)


if __name__ == "__main__":
    bug = "bug" in sys.argv[2:]
    api.load_system = lambda path, variant=None: long_system(bug)  # type: ignore[assignment]
    print("ready", flush=True)
    sys.exit(main(["check", sys.argv[1]]))
