#!/usr/bin/env python3
"""Run the Swiftvisor kernel headless in Bochs (with VT-x) or QEMU TCG (no VT-x).

Library:
    from swiftvisor_run import run_bochs, run_qemu
    r = run_bochs("build/swiftvisor.iso", "build/run", timeout_s=120)
    r.status      # N from the kernel's last line "swiftvisor: exit status N", or None
    r.serial      # everything the kernel wrote to COM1
    r.log_lines   # interesting bochs.log lines (VMFAIL, VMENTER FAIL, PANIC, errors, ...)

    # Typing into the machine: when REGEX appears in the serial output, send TEXT to the
    # emulated COM1's receive line (the hypervisor types it on the focused guest's keyboard).
    r = run_bochs(iso, workdir, console_input=[(r"keyboard: type something", "hello\\r")])
    r.console_log # what was typed when (and what never matched)

CLI (exits with the kernel's status, 124 on timeout, 125 when no status line):
    python3 tools/swiftvisor_run.py bochs --iso build/swiftvisor.iso --timeout 120 [--model M] \
        [--type REGEX TEXT]... [--type-interval SECONDS]
    python3 tools/swiftvisor_run.py qemu --kernel build/swiftvisor.elf --append "..." \
        [--module PATH "NAME ARGS"]...
The serial output is printed live (the harness tails the serial file while the emulator runs).

Console input (Bochs only): without it COM1 is `mode=file, dev=serial.txt`. With it COM1 is
`mode=socket-client, dev=127.0.0.1:PORT`: the harness first listens on a loopback port the OS
picks, Bochs connects to it while it initialises its devices, and a bridge thread writes every
byte Bochs transmits to serial.txt (so everything that reads serial.txt works as before) and,
step by step, waits for each REGEX in the serial output (searched after the previous step's
match) and then sends TEXT one byte every `type_interval_s` seconds. Bochs's 16550 takes one
byte from the socket whenever its receiver is empty, so TCP holds the rest until the hypervisor
has read it. (Not socket-server: Bochs would block before the simulation starts until a client
connects, on a port the harness would have to guess free.)

The kernel's contract: the last line of every run is "swiftvisor: exit status N"; then it
executes Bochs's magic breakpoint (xchg %bx,%bx) and writes N to QEMU's isa-debug-exit port 0xf4.

Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import dataclasses
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

STATUS_RE = re.compile(r"^swiftvisor: exit status (\d+)\s*$", re.MULTILINE)

# Interactive mode (a terminal): once the hypervisor runs guests, the harness announces the
# terminal the way a VT100-compatible terminal answers a Device Attributes request (ECMA-48 DA,
# "ESC [ ? 1 ; 2 c"); the hypervisor then draws the focused VM's screen as a screen (terminal
# mode). On real hardware a serial terminal sends the same when asked, or the user types Ctrl-A t.
TERMINAL_ANNOUNCE = "\x1b[?1;2c"
HYPERVISOR_RUNS_GUESTS_RE = r"^vmx: VMXON done"
# Terminal mode draws the 25-row VGA screen, a title row and the scrolling output below it.
TERMINAL_MODE_MIN_ROWS = 30
# After Ctrl-A x, the hypervisor stops every VM and Bochs ends; if it has not within this many
# seconds (a hypervisor that no longer reads its console), the harness ends Bochs itself.
QUIT_GRACE_S = 20.0
# After the kernel's last line ("swiftvisor: exit status N") Bochs ends within a second (the
# magic breakpoint, then the debugger's quit); if it still runs this many seconds later, the
# harness ends it: the hypervisor is done, nothing more can come.
END_GRACE_S = 10.0

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
    console_log: list[str] = dataclasses.field(default_factory=list)  # console input: what was typed when

    @property
    def emulator_agrees(self) -> bool:
        """Did the emulator end the way the kernel's status line says it did? Bochs: exit code
        0 (magic break, then the debugger's quit). QEMU: isa-debug-exit's (status << 1) | 1."""
        if self.status is None or self.timed_out:
            return False
        if self.emulator == "bochs":
            # Bochs 2.7 now and then crashes (SIGSEGV) while tearing itself down *after* the
            # debugger's quit: its log's last line then still says the simulation ended
            # cleanly. That is Bochs's bug, not the kernel's: accept it, and only then.
            if self.exit_code is not None and self.exit_code < 0 and self.log_tail \
                    and "quit_sim called with exit code 0" in self.log_tail[-1]:
                return True
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
         env: dict | None, live, bridge: "_ConsoleBridge | None" = None) -> tuple[int | None, bool, float]:
    """Run `cmd` in its own process group with a wall-clock timeout, optionally streaming the
    serial file to `live` (a text stream) while it runs; `bridge` (console input) is started
    with the emulator and drained when it ends. Returns (exit code, timed out, wall s)."""
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
        end = _EndDetector(serial_path)
        try:
            if bridge is not None:
                bridge.start()
            if Path(cmd[0]).name == "bochs":
                _ScreenDrain(proc.pid).start()
            while True:
                try:
                    code = proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if live is not None:
                    offset = _stream(serial_path, offset, live, decoder)
                if end.overdue():
                    note = f"Bochs still ran {END_GRACE_S:.0f} s after the kernel's last line: ended by the harness"
                    raw = bridge is not None and bridge.keys_fd is not None
                    print(f"swiftvisor_run: {note}" + ("\r" if raw else ""), file=sys.stderr)
                    if bridge is not None:
                        bridge._note(note)
                    _kill_group(proc)
                    code = None
                    break
                if deadline is not None and time.monotonic() > deadline:
                    timed_out = True
                    _kill_group(proc)
                    code = None
                    break
                if bridge is not None and bridge.quit_typed_at is not None \
                        and time.monotonic() - bridge.quit_typed_at > QUIT_GRACE_S:
                    bridge._note(f"Ctrl-A x typed {QUIT_GRACE_S:.0f} s ago and Bochs still runs: ended by the harness")
                    _kill_group(proc)
                    code = None
                    break
        except BaseException:  # Ctrl-C in interactive use: leave no emulator behind.
            _kill_group(proc)
            raise
        finally:
            with _active_lock:
                _active.discard(proc)
            if bridge is not None:
                bridge.finish()
        # Bochs has no children, QEMU neither; clear the group anyway in case one lingers.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if live is not None:
        _stream(serial_path, offset, live, decoder, final=True)
    return code, timed_out, time.monotonic() - start


class _EndDetector:
    """Watches the serial file for the kernel's last line ("swiftvisor: exit status N");
    `overdue()` is true once the emulator has outlived it by END_GRACE_S."""

    def __init__(self, serial_path: Path):
        self.serial_path = serial_path
        self.offset = 0
        self.tail = b""
        self.seen_at: float | None = None
        self.checked_at = 0.0

    def overdue(self) -> bool:
        now = time.monotonic()
        if self.seen_at is None and now - self.checked_at >= 0.5:
            self.checked_at = now
            try:
                with open(self.serial_path, "rb") as f:
                    f.seek(self.offset)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            self.offset += len(data)
            text = self.tail + data
            if re.search(rb"^swiftvisor: exit status \d+\r?$", text, re.MULTILINE):
                self.seen_at = now
            self.tail = text[-64:]
        return self.seen_at is not None and now - self.seen_at > END_GRACE_S


class _ScreenDrain(threading.Thread):
    """Reads and discards what Bochs's `term` display draws. Debian's Bochs has its debugger
    compiled in, and then the term display draws the emulated VGA screen (curses) into a pty
    it opens itself (/dev/ptmx, "Bochs connected to screen /dev/pts/N") that nobody reads:
    once some 38 KB of drawing fill the pty, Bochs blocks in write() for ever, mid-run or in
    the debugger's refresh at the magic breakpoint (a guest whose screen is full of changing
    colours fills it in one run: the focused guest's screen is copied to the machine's VGA).
    The pty's other side is found through /proc (the master's fdinfo names its index)."""

    FIND_TIMEOUT_S = 30.0

    def __init__(self, pid: int):
        super().__init__(name=f"bochs-screen-{pid}", daemon=True)
        self.pid = pid

    def _slave_path(self) -> str | None:
        fd_dir = Path(f"/proc/{self.pid}/fd")
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            return None
        for fd in fds:
            try:
                if os.readlink(fd) not in ("/dev/ptmx", "/dev/pts/ptmx"):
                    continue
                info = (Path(f"/proc/{self.pid}/fdinfo") / fd.name).read_text()
            except OSError:
                continue
            m = re.search(r"^tty-index:\s*(\d+)", info, re.MULTILINE)
            if m:
                return f"/dev/pts/{m.group(1)}"
        return None

    def run(self) -> None:
        deadline = time.monotonic() + self.FIND_TIMEOUT_S
        fd = None
        while fd is None:
            if time.monotonic() > deadline or not Path(f"/proc/{self.pid}").exists():
                return
            path = self._slave_path()
            if path is not None:
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_NOCTTY)
                except OSError:
                    fd = None   # not unlocked yet
            if fd is None:
                time.sleep(0.05)
        try:
            while os.read(fd, 65536):
                pass
        except OSError:
            pass            # EIO: Bochs closed its side
        finally:
            os.close(fd)


class _ConsoleBridge:
    """COM1 over a loopback TCP connection (Bochs `mode=socket-client`): everything Bochs
    transmits is appended to `serial_path`; each (regex, text) step waits for its regex in the
    output (after the previous step's match), then sends the text, one byte per `interval_s`.

    Construct it before starting Bochs (it listens on 127.0.0.1, port chosen by the OS, and
    creates the serial file), `start()` it once Bochs runs, `finish()` after Bochs ended: it
    reads what is left until the connection closes (bounded) and stops."""

    CONNECT_TIMEOUT_S = 30.0     # Bochs connects while it initialises its devices (~0.1 s)
    DRAIN_TIMEOUT_S = 5.0        # after Bochs ended: wait this long at most for the last bytes

    def __init__(self, serial_path: Path, steps, interval_s: float = 0.02,
                 keys_fd: int | None = None, echo=None):
        """`keys_fd`: a file descriptor (the terminal, raw) whose bytes are sent to COM1 as they
        come; `echo`: a binary stream that gets Bochs's output at once (interactive mode)."""
        self.serial_path = serial_path
        self.keys_fd = keys_fd
        self.echo = echo
        self.quit_typed_at: float | None = None   # when Ctrl-A x went to the hypervisor
        self._escape = False
        # A step is (regex, text) or (regex, text, interval_s): its own pace (0: one write, as a
        # terminal sends a key's escape sequence; the hypervisor takes an ESC followed by nothing
        # for 50 ms as the Escape key).
        self.steps = [(re.compile(step[0], re.MULTILINE),
                       step[1].encode("latin-1") if isinstance(step[1], str) else bytes(step[1]),
                       step[2] if len(step) > 2 else interval_s)
                      for step in steps]
        self.patterns = [step[0] for step in steps]
        self.interval_s = interval_s
        self.log: list[str] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        serial_path.write_bytes(b"")
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"com1-bridge-{self.port}", daemon=True)
        self._t0 = time.monotonic()

    @property
    def bochs_com1(self) -> str:
        return f"com1: enabled=1, mode=socket-client, dev=127.0.0.1:{self.port}"

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread.start()

    def finish(self) -> None:
        self._ended.set()
        if self._thread.is_alive():
            self._thread.join(self.DRAIN_TIMEOUT_S + 1)
        self.listener.close()
        if self.step_index < len(self.steps):
            for rx in self.patterns[self.step_index:]:
                self.log.append(f"never typed: /{rx}/ did not appear in the serial output")

    def _note(self, message: str) -> None:
        self.log.append(f"{time.monotonic() - self._t0:6.1f} s: {message}")

    step_index = 0

    def _main(self) -> None:
        conn = self._accept()
        if conn is None:
            return
        try:
            with conn, open(self.serial_path, "ab") as out:
                self._pump(conn, out)
        except OSError as e:
            self._note(f"console bridge: {type(e).__name__}: {e}")

    def _accept(self):
        self.listener.settimeout(0.1)
        deadline = time.monotonic() + self.CONNECT_TIMEOUT_S
        while True:
            try:
                conn, _ = self.listener.accept()
                self._note(f"Bochs connected COM1 to 127.0.0.1:{self.port}")
                return conn
            except socket.timeout:
                if self._ended.is_set() or time.monotonic() > deadline:
                    self._note(f"Bochs never connected COM1 to 127.0.0.1:{self.port}: no serial output, nothing typed")
                    return None

    def _pump(self, conn: socket.socket, out) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = ""           # the output so far, CR removed, for the regexes
        search_from = 0     # the end of the previous step's match
        pending = b""       # the current step's bytes not yet sent
        next_send = 0.0
        sent_start = 0.0
        eof = False
        drain_deadline = None
        while not eof:
            now = time.monotonic()
            if self._ended.is_set():
                if drain_deadline is None:
                    drain_deadline = now + self.DRAIN_TIMEOUT_S
                    pending = b""  # Bochs is gone: nobody to type to
                elif now > drain_deadline:
                    break
            wait = 0.05
            if pending:
                wait = max(0.0, min(wait, next_send - now))
            fds = [conn] if self.keys_fd is None or self._ended.is_set() else [conn, self.keys_fd]
            readable, _, _ = select.select(fds, [], [], wait)
            if self.keys_fd is not None and self.keys_fd in readable:
                self._forward_keys(conn)
            if conn in readable:
                data = conn.recv(65536)
                if not data:
                    eof = True
                else:
                    out.write(data)
                    out.flush()
                    if self.echo is not None:
                        try:
                            self.echo.write(data)
                            self.echo.flush()
                        except OSError:
                            self.echo = None   # the terminal went away: the log still gets it
                    if self.step_index < len(self.steps):
                        text += decoder.decode(data).replace("\r", "")
            # The next step: wait for its regex, then type its text.
            if not pending and self.step_index < len(self.steps) and not self._ended.is_set():
                rx, payload, step_interval = self.steps[self.step_index]
                m = rx.search(text, search_from)
                if m:
                    search_from = m.end()
                    pending = payload
                    next_send = sent_start = time.monotonic()
                    self._note(f"/{rx.pattern}/ appeared; typing {payload!r}")
                    if not pending:
                        self.step_index += 1
            if pending and time.monotonic() >= next_send:
                step_interval = self.steps[self.step_index][2]
                chunk = pending if step_interval <= 0 else pending[:1]
                try:
                    conn.sendall(chunk)
                except OSError as e:
                    self._note(f"typing failed: {type(e).__name__}: {e}")
                    pending = b""
                    continue
                pending = pending[len(chunk):]
                next_send = time.monotonic() + step_interval
                if not pending:
                    self._note(f"typed {len(self.steps[self.step_index][1])} bytes in "
                               f"{time.monotonic() - sent_start:.2f} s")
                    self.step_index += 1


    def _forward_keys(self, conn: socket.socket) -> None:
        """Keys from the terminal go to COM1 unchanged: the hypervisor decodes them (Ctrl-A
        commands, escape sequences). Ctrl-A x is noted, so that the harness can end Bochs
        itself if the hypervisor does not (a hung guest is no reason to be stuck)."""
        try:
            data = os.read(self.keys_fd, 1024)
        except OSError:
            data = b""
        if not data:  # the terminal closed
            self.keys_fd = None
            return
        for byte in data:
            if self._escape:
                self._escape = False
                if byte in b"xX":
                    self.quit_typed_at = time.monotonic()
            elif byte == 0x01:
                self._escape = True
        try:
            conn.sendall(data)
        except OSError as e:
            self._note(f"typing failed: {type(e).__name__}: {e}")


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


def bochsrc(iso: Path, model: str, megs: int, ips: int, cpu_options: str, extra: list[str],
            com1: str = "com1: enabled=1, mode=file, dev=serial.txt", cpus: int = 1) -> str:
    # count: the host CPUs (SMP); Bochs runs them in turn, `quantum` instructions each.
    cpu = f"model={model}, count={cpus}, ips={ips}, reset_on_triple_fault=0, ignore_bad_msrs=0"
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
        com1,
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


# Disks that persist: a raw image attached as ata1-master is the hypervisor's own
# disk (HostATADisk), regions of it are the VMs' disks, and Bochs writes it in place (flat mode).
def host_disk_lines(image) -> list[str]:
    """bochsrc lines attaching the raw `image` as ata1-master (secondary channel, 0x170/0x370,
    IRQ 15), flat. Bochs 2.7 derives a 16-head, 63-sector CHS geometry from the size and
    reports the whole image (size / 512 sectors) as its LBA capacity, so any whole number of
    sectors works."""
    image = Path(image).resolve()
    size = image.stat().st_size
    if size == 0 or size % 512:
        raise ValueError(f"{image}: {size} bytes: a host disk image must be a non-empty whole number "
                         "of 512-byte sectors")
    return ["ata1: enabled=1, ioaddr1=0x170, ioaddr2=0x370, irq=15",
            f"ata1-master: type=disk, path={image}, mode=flat"]


# Bochs's disk lock: opening an image read-write, Bochs creates an empty IMAGE.lock beside it
# and removes it when it closes the image; while the file exists, any other Bochs refuses the
# image (a PANIC, "could not open hard drive image file"). A Bochs that is killed leaves the
# file behind. It names no owner, so the owner is found through /proc: a running Bochs that
# has the image open.
def disk_image_holder(image) -> str | None:
    """"Bochs (pid N, in DIR)" for a running Bochs that has `image` open, else None."""
    try:
        target = Path(image).resolve()
    except OSError:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("bochs", "bochs-bin"):
                continue
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if Path(os.readlink(fd)) == target:
                    try:
                        cwd = os.readlink(entry / "cwd")
                    except OSError:
                        cwd = "?"
                    return f"Bochs (pid {entry.name}, in {cwd})"
            except OSError:
                continue
    return None


def release_disk_lock(image) -> str | None:
    """Before Bochs opens `image`: a lock file no running Bochs holds is removed (a note saying
    so is returned); an image a running Bochs has open raises DiskInUse."""
    image = Path(image).resolve()
    holder = disk_image_holder(image)
    if holder:
        raise DiskInUse(f"{image}: in use by {holder}: end it first, or use another image")
    lock = image.with_name(image.name + ".lock")
    if lock.exists():
        lock.unlink()
        return f"removed {lock}: a Bochs that no longer runs left it"
    return None


class DiskInUse(ValueError):
    pass


def _disk_images(extra) -> list[str]:
    """The disk images bochsrc lines attach (`ata…: type=disk, path=…`)."""
    images = []
    for line in extra:
        m = re.match(r"^ata\d-(?:master|slave):.*\btype=disk\b.*\bpath=([^,]+)", line)
        if m:
            images.append(m.group(1).strip())
    return images


def run_bochs(iso, workdir, timeout_s: float | None = 120, model: str = "corei7_haswell_4770",
              megs: int = 128, ips: int = 50_000_000, extra: list[str] = (), cpu_options: str = "",
              live=None, console_input=(), type_interval_s: float = 0.02,
              serial_socket: bool | None = None, interactive: bool = False, cpus: int = 1) -> RunResult:
    """Boot the GRUB ISO in Bochs. `extra`: more bochsrc lines; `cpu_options`: appended to the
    `cpu:` line (e.g. "ignore_bad_msrs=1"); `cpus`: the machine's CPUs (`count=`, each costs about
    as much wall time as the boot CPU while it runs); `live`: a text stream to copy the serial output to
    while Bochs runs. `timeout_s` None or 0: no timeout.
    `console_input`: [(regex, text)] or [(regex, text, interval_s)]: when regex appears in the
    serial output (after the previous step's match), send text to COM1's receive line, one byte
    per `type_interval_s` (or the step's own interval) seconds (0: all at once). It makes COM1 a loopback socket (see the module docstring);
    `serial_socket` True/False forces that mode on/off (default: only with console input).
    `interactive`: this process's stdin is a terminal in raw mode (see `raw_terminal`): its
    bytes go to COM1 as typed, Bochs's COM1 output goes to stdout at once (not `live`), and the
    terminal is announced to the hypervisor once it runs guests (TERMINAL_ANNOUNCE)."""
    iso = Path(iso).resolve()
    if not iso.is_file():
        raise FileNotFoundError(f"no ISO at {iso}")
    disks = _disk_images(extra)
    for image in disks:
        note = release_disk_lock(image)
        if note:
            print(f"swiftvisor_run: {note}" + ("\r" if interactive else ""), file=sys.stderr)
    workdir = _fresh_workdir(workdir)
    console_input = list(console_input)
    if interactive:
        serial_socket = True
        try:
            rows = os.get_terminal_size(sys.stdout.fileno()).lines
        except OSError:
            rows = None     # stdout is a pipe or a file (`make run | tee log`): keys only
        if rows is None:
            print("swiftvisor_run: stdout is not a terminal: keys go to the focused VM, "
                  "screens are shown as lines\r", file=sys.stderr)
        elif rows >= TERMINAL_MODE_MIN_ROWS:
            console_input = [(HYPERVISOR_RUNS_GUESTS_RE, TERMINAL_ANNOUNCE, 0)] + console_input
        else:  # keys still work; screens stay rate-limited "[name] vga NN|" lines (Ctrl-A t forces it)
            print(f"swiftvisor_run: the terminal has {rows} rows, the guests' screen needs "
                  f"{TERMINAL_MODE_MIN_ROWS}: screens are shown as lines\r", file=sys.stderr)
        live = None
    if serial_socket is None:
        serial_socket = bool(console_input)
    if console_input and not serial_socket:
        raise ValueError("console input needs the socket COM1 (serial_socket=True)")
    for rx, *_ in console_input:
        try:
            re.compile(rx)  # a bad regex fails here, not in the bridge thread
        except re.error as e:
            raise ValueError(f"console input regex /{rx}/: {e}") from None
    bridge = _ConsoleBridge(workdir / "serial.txt", console_input, type_interval_s,
                            keys_fd=sys.stdin.fileno() if interactive else None,
                            echo=sys.stdout.buffer if interactive else None) if serial_socket else None
    com1 = bridge.bochs_com1 if bridge else "com1: enabled=1, mode=file, dev=serial.txt"
    (workdir / "bochsrc.txt").write_text(bochsrc(iso, model, megs, ips, cpu_options, list(extra), com1, cpus))
    # The debugger script: continue from the reset vector; at the magic breakpoint, quit.
    (workdir / "dbg.rc").write_text("c\nquit\n")
    cmd = ["bochs", "-q", "-f", "bochsrc.txt", "-rc", "dbg.rc"]
    env = dict(os.environ, TERM=os.environ.get("TERM") or "xterm", LINES="25", COLUMNS="80")
    if env["TERM"] == "dumb":
        env["TERM"] = "xterm"
    try:
        code, timed_out, wall = _run(cmd, workdir, workdir / "serial.txt", timeout_s, env, live, bridge)
    finally:
        if bridge is not None:
            bridge.listener.close()
        # Bochs is gone (it ended, or the harness killed it): a lock it left is stale.
        for image in disks:
            lock = Path(image).resolve()
            lock = lock.with_name(lock.name + ".lock")
            if lock.exists() and disk_image_holder(image) is None:
                lock.unlink(missing_ok=True)
    serial = _read(workdir / "serial.txt")
    interesting, tail, ticks = parse_bochs_log(_read(workdir / "bochs.log"))
    return RunResult("bochs", serial, parse_status(serial), code, timed_out, wall, str(workdir),
                     ticks, interesting, tail, cmd, bridge.log if bridge else [])


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
    if r.console_log:
        print("--- console input", file=out)
        for line in r.console_log:
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


@contextlib.contextmanager
def raw_terminal(fd: int):
    """The terminal on `fd` in raw mode for the run (no echo, no line editing, and no signals
    from keys: Ctrl-C and Ctrl-Z go to the guest), restored on every way out: the run's end,
    an exception, Ctrl-A x, SIGTERM/SIGHUP (install_signal_handlers makes them exceptions).
    The display is reset too: attributes, and the scrolling region the hypervisor's terminal
    mode sets (ESC [ r)."""
    import termios
    import tty
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
        try:
            if sys.stdout.isatty():   # not into a log that stdout is piped to
                sys.stdout.write("\x1b[0m\x1b[r\x1b[999;1H\n")
                sys.stdout.flush()
        except OSError:
            pass


def keys_unavailable() -> str | None:
    """Why this process cannot take keys from its terminal (None: it can). Keys are read
    whenever stdin is a terminal, whatever stdout is."""
    import termios
    if not sys.stdin.isatty():
        return "stdin is not a terminal"
    try:
        foreground = os.tcgetpgrp(sys.stdin.fileno())
    except OSError:
        foreground = None   # not this session's controlling terminal: no job control on it
    if foreground is not None and foreground != os.getpgrp():
        # Raw mode from the background would stop the job (SIGTTOU).
        return "the terminal's input belongs to another job (running in the background?)"
    try:
        termios.tcgetattr(sys.stdin.fileno())
    except termios.error as e:
        return f"stdin's terminal settings cannot be read ({e})"
    return None


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
    b.add_argument("--cpus", type=int, default=1, help="host CPUs (Bochs's cpu: count=)")
    b.add_argument("--cpu-options", default="", help='appended to the cpu: line, e.g. "ignore_bad_msrs=1"')
    b.add_argument("--extra", action="append", default=[], help="extra bochsrc line (repeatable)")
    b.add_argument("--workdir", default="build/run-bochs")
    b.add_argument("--host-disk", metavar="IMAGE",
                   help="attach IMAGE as ata1-master: the hypervisor's own disk (disk=host module lines)")
    b.add_argument("--type", nargs=2, action="append", default=[], metavar=("REGEX", "TEXT"),
                   help="when REGEX appears in the serial output, type TEXT (backslash escapes "
                        r"such as \r are decoded; repeatable, in order)")
    b.add_argument("--type-interval", type=float, default=0.02,
                   help="seconds between typed bytes (default 0.02; 0: all at once)")
    b.add_argument("--interactive", choices=("auto", "yes", "no"), default="auto",
                   help="keys from this terminal go to the focused VM (Ctrl-A h: the hypervisor's "
                        "console keys, Ctrl-A x: quit); auto: when stdin is a terminal (stdout may be a pipe)")
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
    interactive = False
    try:
        if a.emulator == "bochs":
            typed = [(rx, codecs.decode(text, "unicode_escape")) for rx, text in a.type]
            interactive = a.interactive == "yes"
            if a.interactive == "auto":
                why_not = keys_unavailable()
                interactive = why_not is None
                if why_not and (sys.stdin.isatty() or sys.stdout.isatty()):
                    print(f"swiftvisor_run: {why_not}: keys are not read", file=sys.stderr)
            if interactive:
                print("swiftvisor_run: interactive: keys go to the focused VM (Ctrl-C too); "
                      "Ctrl-A h lists the console keys, Ctrl-A x quits", file=sys.stderr)
            extra = a.extra + (host_disk_lines(a.host_disk) if a.host_disk else [])
            with raw_terminal(sys.stdin.fileno()) if interactive else contextlib.nullcontext():
                r = run_bochs(a.iso, a.workdir, a.timeout or None, model=a.model, megs=a.megs,
                              extra=extra, cpu_options=a.cpu_options, cpus=a.cpus, live=live,
                              console_input=typed, type_interval_s=a.type_interval,
                              interactive=interactive)
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
    interactive = a.emulator == "bochs" and interactive
    if r.console_log and r.ok and not interactive:
        for line in r.console_log:
            print("console input: " + line, file=sys.stderr)
    if not r.ok:
        report_failure(r, serial_lines=0 if live or interactive else 40)
    return r.cli_exit_code()


if __name__ == "__main__":
    sys.exit(main())
