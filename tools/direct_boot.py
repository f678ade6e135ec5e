#!/usr/bin/env python3
"""Boot a guest kernel directly in QEMU TCG (no hypervisor) and capture its COM1, so its output
can be compared with the same kernel under Swiftvisor.

    python3 tools/direct_boot.py build/guests/teachkernel.elf --disk build/guests/teachdisk.img

The kernel is a Multiboot v1 ELF32 (QEMU's -kernel loader); `--disk` is a raw image attached as
the primary master of the PC's IDE controller (0x1F0, IRQ 14), copied into the work directory
first so the original stays as the harness made it. The kernel ends the run through QEMU's
isa-debug-exit (port 0xF4: QEMU exits with (value << 1) | 1) after printing
"<name>: exit status N"; that line is the run's status.

For tools/boot_tests.py: `direct_case(...)` makes a case whose run is this direct boot.
"""

import argparse
import re
import shutil
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
import swiftvisor_run  # noqa: E402


def run_direct(kernel, disk=None, workdir="build/direct", timeout_s=30.0, megs=64, cpu="max",
               status_name="teachkernel", live=None) -> swiftvisor_run.RunResult:
    """Boot `kernel` with QEMU -kernel, `disk` (raw) as IDE primary master. The status is the N
    of the kernel's last "<status_name>: exit status N" line."""
    kernel = Path(kernel).resolve()
    if not kernel.is_file():
        raise FileNotFoundError(f"no kernel at {kernel}")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("serial.txt", "qemu-system-x86_64.out", "disk.img"):
        (workdir / name).unlink(missing_ok=True)
    (workdir / "serial.txt").touch()
    cmd = ["qemu-system-x86_64", "-cpu", cpu, "-m", str(megs), "-kernel", str(kernel),
           "-serial", "file:serial.txt", "-display", "none", "-monitor", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if disk is not None:
        shutil.copyfile(disk, workdir / "disk.img")
        cmd += ["-drive", "file=disk.img,format=raw,if=ide,index=0,media=disk"]
    code, timed_out, wall = swiftvisor_run._run(cmd, workdir, workdir / "serial.txt", timeout_s, None, live)
    serial = (workdir / "serial.txt").read_text(errors="replace")
    found = re.findall(rf"^{re.escape(status_name)}: exit status (\d+)\s*$", serial, re.MULTILINE)
    status = int(found[-1]) if found else None
    return swiftvisor_run.RunResult("qemu", serial, status, code, timed_out, wall, str(workdir), command=cmd)


def direct_case(name, kernel, disk=None, expect=(), status_name="teachkernel", timeout=30, **kw):
    """A boot_tests.py case (emulator "qemu") that boots `kernel` directly instead of Swiftvisor."""
    def run(case, workdir):
        return run_direct(ROOT / kernel, ROOT / disk if disk else None, workdir, case["timeout"],
                          status_name=status_name)
    return dict(name=name, emulator="qemu", run=run, expect=list(expect), timeout=timeout, **kw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kernel")
    ap.add_argument("--disk")
    ap.add_argument("--workdir", default="build/direct")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--status-name", default="teachkernel")
    a = ap.parse_args(argv)
    swiftvisor_run.install_signal_handlers()
    r = run_direct(a.kernel, a.disk, a.workdir, a.timeout, status_name=a.status_name, live=sys.stdout)
    print(f"direct boot: {r.summary()}", file=sys.stderr)
    return r.cli_exit_code() if r.emulator_agrees or r.status is None else 1


if __name__ == "__main__":
    sys.exit(main())
