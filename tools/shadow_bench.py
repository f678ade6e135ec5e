#!/usr/bin/env python3
"""Shadow paging against EPT, measured in Bochs on the Haswell model (which has both,
so the same guest runs under each: `paging=shadow` forces shadow paging there), and shadow paging
on core2_penryn_t9600 (no EPT, no preemption timer) against EPT on Haswell.

For each workload, the boot tests under EPT and under shadow paging, and from each VM report: the
instructions from the VM's first entry to its stop (Bochs `clock: sync=none`: one TSC tick per
instruction) and the exits by reason. The fork/exec workload is the PVH boot running
tools/linux-init/forkexec.sh (200 x /bin/true); its own cost is its boot minus the plain boot.

    python3 tools/shadow_bench.py            run the eight boot tests (about 8 minutes), then report
    python3 tools/shadow_bench.py --no-run   report from the last runs in build/tests/
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = [  # (label, VM name, EPT case, shadow case)
    ("paging-stress guest", "pagingstress", "bochs-pagingstress-ept", "bochs-pagingstress-shadow"),
    ("Linux by PVH to power-off", "linux", "bochs-guest-linux-pvh", "bochs-guest-linux-pvh-shadow"),
    ("Linux by PVH + 200 fork/exec", "linux", "bochs-guest-linux-pvh-forkexec", "bochs-guest-linux-pvh-forkexec-shadow"),
    # Shadow paging where the CPU has no EPT (core2_penryn_t9600, which also has no VMX-preemption
    # timer: the host timer's NMIs end turns), against EPT on Haswell for the same guest.
    ("paging-stress, shadow on Penryn", "pagingstress", "bochs-pagingstress-ept", "bochs-pagingstress-penryn"),
    ("Linux by PVH, shadow on Penryn", "linux", "bochs-guest-linux-pvh", "bochs-guest-linux-pvh-penryn"),
]


def report(case, vm):
    """(instructions from first entry to stop, {reason: count}) from a case's serial output."""
    path = ROOT / "build/tests" / case / "serial.txt"
    if not path.exists():       # --no-run before that case ever ran
        return None, {}
    text = path.read_text(errors="replace").replace("\r", "")   # the serial log has CRLF line ends
    m = re.search(rf"^\[{vm}\] CPU time: .*?; (\d+) TSC ticks from its first entry to its stop$", text, re.M)
    exits = {f"{n} {name.strip()}": int(c) for n, name, c in
             re.findall(rf"^\[{vm}\]\s+(\d+) ([A-Za-z][\w /()-]*?)\s+(\d+)\s+\d+\s+\d+$", text, re.M)}
    return (int(m.group(1)) if m else None), exits


def main():
    if "--no-run" not in sys.argv:
        cases = [c for w in WORKLOADS for c in w[2:]]
        r = subprocess.run([sys.executable, str(ROOT / "tools/boottest.py"), "-k", "^(" + "|".join(cases) + ")$"])
        if r.returncode != 0:
            print("shadow_bench: a boot test failed")
            return 1
    results = {}
    for label, vm, ept, shadow in WORKLOADS:
        results[label] = (report(ept, vm), report(shadow, vm))
    print("\nShadow paging vs EPT (Bochs corei7_haswell_4770, and core2_penryn_t9600 where named; "
          "instructions from the VM's first entry to its stop)")
    print(f"  {'workload':<32} {'EPT':>15} {'shadow':>15} {'ratio':>7}")
    for label, ((e, _), (s, _)) in results.items():
        print(f"  {label:<32} {e or 0:>15,} {s or 0:>15,} {(s / e if e and s else 0):>6.2f}x")
    (pe, _), (ps, _) = results["Linux by PVH to power-off"]
    (fe, _), (fs, _) = results["Linux by PVH + 200 fork/exec"]
    if pe and ps and fe and fs:
        print(f"  {'200 fork/exec alone':<32} {fe - pe:>15,} {fs - ps:>15,} {(fs - ps) / (fe - pe):>6.2f}x")
    for label, ((_, ee), (_, se)) in results.items():
        print(f"\n  {label}: exits by reason (EPT / shadow)")
        for reason in sorted(set(ee) | set(se), key=lambda r: int(r.split()[0])):
            print(f"    {reason:<36} {ee.get(reason, 0):>9} {se.get(reason, 0):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
