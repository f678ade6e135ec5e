#!/usr/bin/env python3
"""Run the Swiftvisor kernel headless in Bochs (with VT-x) or QEMU TCG (no VT-x).

Library:
    from swiftvisor_run import run_bochs, run_qemu
    r = run_bochs("build/swiftvisor.iso", "build/run", timeout_s=120)
    r.status      # N from the kernel's last line "swiftvisor: exit status N", or None
    r.serial      # everything the kernel wrote to COM1
    r.log_lines   # interesting bochs.log lines (VMFAIL, VMENTER FAIL, PANIC, errors, ...)

CLI (exits with the kernel's status, 124 on timeout, 125 when no status line):
    python3 tools/swiftvisor_run.py bochs --iso build/swiftvisor.iso --timeout 120 [--model M]
    python3 tools/swiftvisor_run.py qemu --kernel build/swiftvisor.elf --append "..." \
        [--module PATH "NAME ARGS"]...
The serial output is printed live (the harness tails the serial file while the emulator runs).

The kernel's contract: the last line of every run is "swiftvisor: exit status N"; then it
executes Bochs's magic breakpoint (xchg %bx,%bx) and writes N to QEMU's isa-debug-exit port 0xf4.

Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import codecs
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

STATUS_RE = re.compile(r"^swiftvisor: exit status (\d+)\s*$", re.MULTILINE)

# Exit codes of the CLI (same convention as timeout(1) for 124).
EXIT_TIMEOUT = 124
EXIT_NO_STATUS = 125

# A bochs.log line: "00295906155i[CPU0  ] message". The number is the system tick count at the
# time of the message; with `clock: sync=none` a tick is one emulated instruction (HLT skips ticks
# ahead to the next timer event), so the last line's number is the run's instruction count.
# The level letter: d=debug, i=info, e=error, p=panic.
LOG_LINE_RE = re.compile(r"^(\d+)([dipe])\[([^\]]*)\]\s?(.*)$")

# Info-level lines worth showing even when nothing failed (errors and panics are always shown).
# (Not a bare "VMX": the CPU feature list and the BIOS's SMM entry mention it on every boot.)
INTERESTING_INFO_RE = re.compile(
    r"VMFAIL|VMENTER|VMEXIT|VMABORT|VMLAUNCH|VMRESUME|VMXON|VMXOFF|VMPTRLD|VMCLEAR|VMREAD|"
    r"VMWRITE|VMCALL|INVEPT|INVVPID|triple fault|MAGIC BREAKPOINT|quit_sim|PANIC"
)


@dataclasses.dataclass
class RunResult:
    emulator: str                  # "bochs" or "qemu"
    serial: str                    # COM1 output
    status: int | None             # from "swiftvisor: exit status N"; None when absent
    exit_code: int | None          # the emulator's own exit code (None when killed on timeout)
    timed_out: bool
    wall_s: float
    workdir: str
    ticks: int | None = None       # Bochs: instruction count at the end (see LOG_LINE_RE)
    log_lines: list[str] = dataclasses.field(default_factory=list)  # interesting bochs.log lines
    log_tail: list[str] = dataclasses.field(default_factory=list)   # last lines of bochs.log
    command: list[str] = dataclasses.field(default_factory=list)

    @property
    def emulator_agrees(self) -> bool:
        """Did the emulator end the way the kernel's status line says it did? Bochs: exit code
        0 (magic break, then the debugger's quit). QEMU: isa-debug-exit's (status << 1) | 1."""
        if self.status is None or self.timed_out:
            return False
        if self.emulator == "bochs":
            return self.exit_code == 0
        return self.exit_code == ((self.status << 1) | 1) & 0xFF

    @property
    def ok(self) -> bool:
        return self.status == 0 and self.emulator_agrees

    def cli_exit_code(self) -> int:
        if self.timed_out:
            return EXIT_TIMEOUT
        if self.status is None:
            return EXIT_NO_STATUS
        return self.status

    def summary(self) -> str:
        parts = [f"{self.emulator}: {self.wall_s:.1f} s"]
        if self.ticks is not None:
            parts.append(f"{self.ticks:,} instructions")
        if self.timed_out:
            parts.append("TIMED OUT")
        else:
            parts.append(f"emulator exit code {self.exit_code}")
        parts.append("kernel status " + ("missing" if self.status is None else str(self.status)))
        return ", ".join(parts)


def parse_status(serial: str) -> int | None:
    """The N of the last "swiftvisor: exit status N" line, or None."""
    matches = STATUS_RE.findall(serial)
    return int(matches[-1]) if matches else None


def parse_bochs_log(text: str, tail: int = 30) -> tuple[list[str], list[str], int | None]:
    """(interesting lines, last `tail` lines, tick count of the last timestamped line)."""
    lines = text.splitlines()
    interesting = []
    ticks = None
    for line in lines:
        m = LOG_LINE_RE.match(line)
        if not m:
            continue
        ticks = int(m.group(1))
        level, message = m.group(2), m.group(4)
        if level in "ep" or INTERESTING_INFO_RE.search(message):
            interesting.append(line)
    # A guest stuck in a failing loop can log thousands of lines: keep the first and last ones.
    if len(interesting) > 200:
        interesting = interesting[:100] + ["... (%d lines left out) ..." % (len(interesting) - 200)] + interesting[-100:]
    return interesting, lines[-tail:], ticks


def _read(path: Path) -> str:
    """A file as text; CR LF (the kernel's serial line ends) becomes LF."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
    except FileNotFoundError:
        return ""


# Emulators running now (boottest.py runs several in threads): kill_all() ends them on Ctrl-C.
_active: set[subprocess.Popen] = set()
_active_lock = threading.Lock()


def kill_all() -> None:
    with _active_lock:
        procs = list(_active)
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the emulator's whole process group (it was started in its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _run(cmd: list[str], workdir: Path, serial_path: Path, timeout_s: float | None,
         env: dict | None, live) -> tuple[int | None, bool, float]:
    """Run `cmd` in its own process group with a wall-clock timeout, optionally streaming the
    serial file to `live` (a text stream) while it runs. Returns (exit code, timed out, wall s)."""
    start = time.monotonic()
    deadline = start + timeout_s if timeout_s else None
    offset = 0
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # UTF-8 split across reads
    with open(workdir / f"{Path(cmd[0]).name}.out", "wb") as out:
        # stdin from /dev/null: Bochs's debugger would otherwise wait for a terminal. Its `term`
        # display writes curses escape codes to stdout: they go to the .out file.
        proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        with _active_lock:
            _active.add(proc)
        timed_out = False
        try:
            while True:
                try:
                    code = proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if live is not None:
                    offset = _stream(serial_path, offset, live, decoder)
                if deadline is not None and time.monotonic() > deadline:
                    timed_out = True
                    _kill_group(proc)
                    code = None
                    break
        except BaseException:  # Ctrl-C in interactive use: leave no emulator behind.
            _kill_group(proc)
            raise
        finally:
            with _active_lock:
                _active.discard(proc)
        # Bochs has no children, QEMU neither; clear the group anyway in case one lingers.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if live is not None:
        _stream(serial_path, offset, live, decoder, final=True)
    return code, timed_out, time.monotonic() - start


def _stream(path: Path, offset: int, out, decoder, final: bool = False) -> int:
    """Copy what the serial file gained since `offset` to `out`; returns the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        data = b""
    text = decoder.decode(data, final)
    if text:
        out.write(text)
        out.flush()
    return offset + len(data)


def _fresh_workdir(workdir) -> Path:
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("serial.txt", "bochs.log", "bochs.out", "qemu-system-x86_64.out"):
        (workdir / name).unlink(missing_ok=True)
    return workdir


def bochsrc(iso: Path, model: str, megs: int, ips: int, cpu_options: str, extra: list[str]) -> str:
    cpu = f"model={model}, count=1, ips={ips}, reset_on_triple_fault=0, ignore_bad_msrs=0"
    if cpu_options:
        cpu += ", " + cpu_options
    lines = [
        f"megs: {megs}",
        # reset_on_triple_fault=0: a triple fault is a PANIC (exit status 1), not a silent reboot.
        # ignore_bad_msrs=0: an unknown MSR raises #GP as on hardware.
        f"cpu: {cpu}",
        "romimage: file=/usr/share/bochs/BIOS-bochs-latest",
        "vgaromimage: file=/usr/share/vgabios/vgabios.bin",
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        "com1: enabled=1, mode=file, dev=serial.txt",
        "port_e9_hack: enabled=1",
        # xchg %bx,%bx stops the simulation and hands over to the debugger, which runs `quit`
        # from dbg.rc: the only clean way to end a Bochs run with exit status 0.
        "magic_break: enabled=1",
        # Debian's Bochs has no `nogui`; `term` (bochs-term) draws the VGA screen with curses on
        # stdout and needs TERM set.
        "display_library: term",
        # sync=none: emulated time follows the instruction count, so a run executes the same
        # instructions every time and guest RDTSC counts instructions. A fixed time0 keeps the
        # CMOS clock (and so the whole run) identical between runs.
        "clock: sync=none, time0=946684800",
        "log: bochs.log",
        # A PANIC (triple fault, unsupported operation) ends Bochs with exit status 1.
        "panic: action=fatal",
        "error: action=report",
        "info: action=report",
        "debug: action=ignore",
    ]
    return "\n".join(lines + list(extra)) + "\n"


def run_bochs(iso, workdir, timeout_s: float | None = 120, model: str = "corei7_haswell_4770",
              megs: int = 128, ips: int = 50_000_000, extra: list[str] = (), cpu_options: str = "",
              live=None) -> RunResult:
    """Boot the GRUB ISO in Bochs. `extra`: more bochsrc lines; `cpu_options`: appended to the
    `cpu:` line (e.g. "ignore_bad_msrs=1"); `live`: a text stream to copy the serial output to
    while Bochs runs. `timeout_s` None or 0: no timeout."""
    iso = Path(iso).resolve()
    if not iso.is_file():
        raise FileNotFoundError(f"no ISO at {iso}")
    workdir = _fresh_workdir(workdir)
    (workdir / "bochsrc.txt").write_text(bochsrc(iso, model, megs, ips, cpu_options, list(extra)))
    # The debugger script: continue from the reset vector; at the magic breakpoint, quit.
    (workdir / "dbg.rc").write_text("c\nquit\n")
    cmd = ["bochs", "-q", "-f", "bochsrc.txt", "-rc", "dbg.rc"]
    env = dict(os.environ, TERM=os.environ.get("TERM") or "xterm", LINES="25", COLUMNS="80")
    if env["TERM"] == "dumb":
        env["TERM"] = "xterm"
    code, timed_out, wall = _run(cmd, workdir, workdir / "serial.txt", timeout_s, env, live)
    serial = _read(workdir / "serial.txt")
    interesting, tail, ticks = parse_bochs_log(_read(workdir / "bochs.log"))
    return RunResult("bochs", serial, parse_status(serial), code, timed_out, wall, str(workdir),
                     ticks, interesting, tail, cmd)


def run_qemu(kernel_elf, cmdline: str = "", modules: list = (), workdir="build/qemu",
             timeout_s: float | None = 30, megs: int = 128, cpu: str = "max",
             extra: list[str] = (), live=None) -> RunResult:
    """Boot the kernel with QEMU TCG's Multiboot v1 loader. `modules`: (path, "NAME ARGS")
    pairs. Note: QEMU gives the kernel each module's string as "PATH NAME ARGS" (the path
    included, as Multiboot v1 loaders do), where GRUB's module2 gives "NAME ARGS".
    -cpu max (TCG): long mode, NX, 1 GiB pages, XSAVE, no VMX; -cpu qemu64 lacks 1 GiB pages."""
    kernel_elf = Path(kernel_elf).resolve()
    if not kernel_elf.is_file():
        raise FileNotFoundError(f"no kernel at {kernel_elf}")
    workdir = _fresh_workdir(workdir)
    # QEMU's -kernel loads Multiboot v1 only from ELF32: copy the ELF64 (same load addresses).
    kernel32 = workdir / "kernel32.elf"
    subprocess.run(["objcopy", "-O", "elf32-i386", str(kernel_elf), str(kernel32)], check=True)
    cmd = ["qemu-system-x86_64", "-cpu", cpu, "-m", str(megs),
           "-kernel", str(kernel32), "-append", cmdline,
           "-serial", "file:serial.txt", "-display", "none", "-monitor", "none",
           "-no-reboot",  # a triple fault ends QEMU (exit code 0, and no status line)
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if modules:
        specs = []
        for path, args in modules:
            path = str(Path(path).resolve())
            if "," in path + args:
                raise ValueError("QEMU's -initrd separates modules with ',': no commas allowed")
            specs.append(f"{path} {args}".rstrip())
        cmd += ["-initrd", ",".join(specs)]
    cmd += list(extra)
    code, timed_out, wall = _run(cmd, workdir, workdir / "serial.txt", timeout_s, None, live)
    serial = _read(workdir / "serial.txt")
    return RunResult("qemu", serial, parse_status(serial), code, timed_out, wall, str(workdir),
                     command=cmd)


def report_failure(r: RunResult, out=sys.stderr, serial_lines: int = 40) -> None:
    """What a failing run looks like: the serial tail and the emulator's own complaints."""
    if serial_lines > 0:
        print(f"--- last {serial_lines} lines of serial output ({r.workdir}/serial.txt)", file=out)
        for line in r.serial.splitlines()[-serial_lines:]:
            print("  | " + line, file=out)
    if r.emulator == "bochs":
        bad = [l for l in r.log_lines if not re.search(r"MAGIC BREAKPOINT|quit_sim", l)]
        if bad:
            print(f"--- bochs.log: VMX/PANIC/error lines ({r.workdir}/bochs.log)", file=out)
            for line in bad[-40:]:
                print("  | " + line, file=out)
        if r.exit_code not in (0, None):  # Bochs itself failed: its last words
            print("--- bochs.log tail", file=out)
            for line in r.log_tail[-15:]:
                print("  | " + line, file=out)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    """Make SIGTERM and SIGHUP behave like Ctrl-C, so that the emulator's process group is
    killed on the way out. (Bochs runs in its own session: a terminal's Ctrl-C does not reach
    it, and it survives SIGTERM when its debugger is active.)"""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="emulator", required=True)
    b = sub.add_parser("bochs", help="boot a GRUB ISO in Bochs (VT-x with EPT)")
    b.add_argument("--iso", default="build/swiftvisor.iso")
    b.add_argument("--model", default="corei7_haswell_4770", help="Bochs CPU model")
    b.add_argument("--megs", type=int, default=128)
    b.add_argument("--cpu-options", default="", help='appended to the cpu: line, e.g. "ignore_bad_msrs=1"')
    b.add_argument("--extra", action="append", default=[], help="extra bochsrc line (repeatable)")
    b.add_argument("--workdir", default="build/run-bochs")
    q = sub.add_parser("qemu", help="boot the kernel in QEMU TCG (no VT-x)")
    q.add_argument("--kernel", default="build/swiftvisor.elf")
    q.add_argument("--append", default="", help="kernel command line")
    q.add_argument("--module", nargs=2, action="append", default=[], metavar=("PATH", "ARGS"))
    q.add_argument("--cpu", default="max")
    q.add_argument("--megs", type=int, default=128)
    q.add_argument("--workdir", default="build/run-qemu")
    for p in (b, q):
        p.add_argument("--timeout", type=float, default=120, help="wall-clock seconds (0: none)")
        p.add_argument("--quiet", action="store_true", help="print the serial output only on failure")
    a = ap.parse_args(argv)

    install_signal_handlers()
    live = None if a.quiet else sys.stdout
    try:
        if a.emulator == "bochs":
            r = run_bochs(a.iso, a.workdir, a.timeout or None, model=a.model, megs=a.megs,
                          extra=a.extra, cpu_options=a.cpu_options, live=live)
        else:
            r = run_qemu(a.kernel, a.append, a.module, a.workdir, a.timeout or None,
                         megs=a.megs, cpu=a.cpu, live=live)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, subprocess.CalledProcessError) as e:
        print(f"swiftvisor_run: {e}", file=sys.stderr)
        return 2
    print(r.summary(), file=sys.stderr)
    if not r.ok:
        report_failure(r, serial_lines=0 if live else 40)
    return r.cli_exit_code()


if __name__ == "__main__":
    sys.exit(main())
