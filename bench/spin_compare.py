"""kverify beside SPIN on the same steps: states with and without reduction, and end-to-end time.

For each spec, the model is exported with `kverify export --promela` (same atomic steps, same
checks), then SPIN runs it twice (`gcc -DNOREDUCE` and SPIN's default partial-order
reduction), and kverify checks the spec with and without `--por`.  Times are end to end, as a
user sees them: for kverify `python -m kverify check` (parse, lower, compile, search, report);
for SPIN `spin -a`, `gcc -O2` and `./pan`.  Run: `python bench/spin_compare.py [--quick]`.
Needs spin and gcc (Debian package spin).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = [("mod_vs_cancel", "reference"), ("mod_vs_cancel", "v5.13"), ("delayed_callers_2", "v5.13")]
LARGE = [("delayed_callers_3", "v5.13")]


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout + done.stderr


def kverify(spec: str, variant: str, por: bool) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "kverify", "check", str(ROOT / "specs" / f"{spec}.kvs"),
           "--variant", variant, "--format", "json", "--por" if por else "--no-por"]
    seconds, out = timed(cmd, ROOT)
    return seconds, json.loads(out[: out.rindex("}") + 1])


def spin(spec: str, variant: str, reduce: bool, work: Path) -> tuple[float, int, bool]:
    pml = work / "m.pml"
    subprocess.run([sys.executable, "-m", "kverify", "export", "--promela",
                    str(ROOT / "specs" / f"{spec}.kvs"), "--variant", variant, "-o", str(pml)],
                   cwd=ROOT, check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run(["spin", "-a", "m.pml"], cwd=work, check=True, capture_output=True)
    flags = ["-O2", "-DSAFETY", "-DVECTORSZ=4096", "-DCOLLAPSE"] + ([] if reduce else ["-DNOREDUCE"])
    subprocess.run(["gcc", *flags, "-o", "pan", "pan.c"], cwd=work, check=True, capture_output=True)
    out = subprocess.run(["./pan", "-m10000000", "-w26"], cwd=work, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    states = int(re.search(r"(\d+) states, stored", out).group(1))  # type: ignore[union-attr]
    return seconds, states, "errors: 0" not in out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the three-caller spec")
    args = parser.parse_args()
    if not (shutil.which("spin") and shutil.which("gcc")):
        print("spin and gcc are needed (apt-get install spin)", file=sys.stderr)
        return 2
    print("| spec | variant | kverify states | --por | ratio | SPIN states | SPIN POR | ratio "
          "| kverify s (default, reduced) | SPIN s (default, reduced: spin+gcc+pan) | verdicts agree |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for spec, variant in SPECS + ([] if args.quick else LARGE):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            _, full = kverify(spec, variant, por=False)
            k_s, red = kverify(spec, variant, por=True)  # the default run
            _, s_full, s_bad = spin(spec, variant, reduce=False, work=work)
            s_s, s_red, _ = spin(spec, variant, reduce=True, work=work)  # SPIN's default run
        agree = s_bad == (full["verdict"] == "violated")
        print(f"| {spec} | {variant} | {full['states']} | {red['states']} "
              f"| {full['states'] / red['states']:.2f} | {s_full} | {s_red} | {s_full / s_red:.2f} "
              f"| {k_s:.1f} | {s_s:.1f} | {'yes' if agree else 'NO'} |")
    print("\nSPIN stops at its first error, so its state counts on a violated spec are partial.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
