#!/usr/bin/env python3
"""Boot the Linux test guest (tools/linux-guest.sh) in Bochs: directly (the baseline) or under
Swiftvisor, and report how far it got, the instruction count and the wall time.

    python3 tools/linux_boot.py direct [--append "..."] [--timeout 600] [--workdir DIR]
    python3 tools/linux_boot.py hv [--image vmlinuz|vmlinux] [--append "..."] [--args "mem=256 budget=20000 expect=..."]
                                   [--timeout 600] [--workdir DIR]

Both use megs 512, corei7_haswell_4770, ignore_bad_msrs=1 (--strict-msrs: 0). `hv` needs build/swiftvisor.elf
(make kernel). The serial output is in WORKDIR/serial.txt; the last lines are printed.
The wall time at which the marker line appeared is recorded while Bochs runs.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from swiftvisor_run import run_bochs  # noqa: E402

MARKER = "SWIFTVISOR-LINUX-INIT-OK"
BASE_APPEND = "console=ttyS0 panic=-1 reboot=t swiftvisor.poweroff"


class MarkerClock:
    """A `live` stream for run_bochs: notes the wall time at which the marker appears."""

    def __init__(self, echo: bool):
        self.start = time.monotonic()
        self.text = ""
        self.marker_s = None
        self.echo = echo

    def write(self, s: str) -> None:
        self.text += s
        if self.marker_s is None and MARKER in self.text:
            self.marker_s = time.monotonic() - self.start
        if self.echo:
            sys.stdout.write(s)

    def flush(self) -> None:
        if self.echo:
            sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["direct", "hv"])
    ap.add_argument("--base", default=BASE_APPEND, help="the kernel command line's start")
    ap.add_argument("--append", default="", help="more kernel command line after --base")
    ap.add_argument("--args", default="mem=256 budget=20000 expect=shutdown",
                    help="hv: the guest's module arguments before --")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--tail", type=int, default=40)
    ap.add_argument("--strict-msrs", action="store_true",
                    help="Bochs ignore_bad_msrs=0: unknown MSRs raise #GP (the default here is 1)")
    ap.add_argument("--elf", default=str(ROOT / "build/swiftvisor.elf"), help="hv: the Swiftvisor kernel")
    ap.add_argument("--image", choices=["vmlinuz", "vmlinux"], default="vmlinuz",
                    help="hv: boot the bzImage (vmlinuz) or the uncompressed vmlinux by PVH")
    ap.add_argument("--echo", action="store_true", help="print the serial output live")
    a = ap.parse_args()

    subprocess.run([str(ROOT / "tools/linux-guest.sh")], check=True)
    lin = ROOT / "build/linux"
    cmdline = (a.base + " " + a.append).strip()
    workdir = Path(a.workdir or lin / f"run-{a.mode}")
    workdir.mkdir(parents=True, exist_ok=True)
    iso = workdir / "boot.iso"
    if a.mode == "direct":
        subprocess.run([str(ROOT / "tools/mkiso-linux.sh"), str(iso), str(lin / "vmlinuz"),
                        str(lin / "initramfs.cpio.gz"), cmdline], check=True)
    else:
        elf = Path(a.elf).resolve()
        if not elf.is_file():
            print("linux_boot.py: no build/swiftvisor.elf (make kernel)", file=sys.stderr)
            return 2
        subprocess.run([str(ROOT / "tools/mkiso.sh"), str(iso), str(elf), "",
                        str(lin / a.image), f"linux {a.args} -- {cmdline}",
                        str(lin / "initramfs.cpio.gz"), "+initrd linux"], check=True)
    print(f"linux_boot.py: {a.mode}: kernel command line: {cmdline}", flush=True)
    clock = MarkerClock(a.echo)
    r = run_bochs(iso, workdir, timeout_s=a.timeout, megs=512, cpu_options="" if a.strict_msrs else "ignore_bad_msrs=1",
                  live=clock)
    lines = r.serial.splitlines()
    print(f"--- last {a.tail} serial lines ({workdir}/serial.txt, {len(lines)} lines)")
    for line in lines[-a.tail:]:
        print("  | " + line)
    print("--- bochs.log tail")
    for line in r.log_tail[-8:]:
        print("  | " + line)
    reached = MARKER in r.serial
    print(f"linux_boot.py: {r.summary()}")
    cpu = re.search(r"^\[linux\] CPU time: (\d+) TSC ticks in \d+ turns; (\d+) TSC ticks from its first entry", r.serial, re.M)
    if cpu:
        print(f"linux_boot.py: the VM ran {int(cpu.group(2)):,} TSC ticks from its first entry to its stop "
              f"({int(cpu.group(1)):,} of them on the CPU)")
    exits = re.search(r"^\[linux\] VM exits: (\d+) in total", r.serial, re.M)
    if exits:
        print(f"linux_boot.py: VM exits: {int(exits.group(1)):,}")
    print(f"linux_boot.py: marker {'reached' if reached else 'NOT reached'}"
          + (f" after {clock.marker_s:.1f} s wall" if clock.marker_s is not None else ""))
    m = re.search(r"uptime: (\S+)", r.serial)
    if m:
        print(f"linux_boot.py: guest uptime at the marker: {m.group(1)} s")
    return 0 if reached else 1


if __name__ == "__main__":
    sys.exit(main())
