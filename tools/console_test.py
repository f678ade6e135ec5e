#!/usr/bin/env python3
"""`make run` as a person uses it, through a pseudo-terminal.

Runs `make run GUEST=build/guests/shell.bin GUEST2=build/guests/shell.bin` with a pty as its
terminal (stdin, stdout and stderr), like a terminal emulator would, and:
  1. waits for both shells' banners and for terminal mode (the harness announced the terminal;
     the hypervisor draws the focused VM's VGA screen above the serial output);
  2. types `echo Hello World!` + Enter (Shift for H, W and !) and checks the first VM's reply
     and that the keys came through its keyboard (IRQ 1);
  3. types Ctrl-A n and checks the focus moved to the second VM (its name is shown), types
     `echo Second VM` and checks that only the second VM answered, and that its VGA screen was
     drawn in the terminal with the reply on row 3 in light green;
  4. types Ctrl-A x and checks both VMs were stopped from the console, the reports were printed,
     `make` ended with status 0, the terminal settings (`stty -a`) are what they were before,
     and no Bochs process of this run is left.
Then two short runs of one shell: `exit` typed (the guest ends the run by itself), and SIGTERM to
`make` mid-run (a closed terminal window); after each the terminal must be as before and no Bochs
left. Exit status 0 when all holds; on failure the last part of the terminal's output is shown.
Run from the repository root after `make kernel guests` (make test does this).
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "build" / "console-test"
ISO = ROOT / "build" / "console-test.iso"
CURSOR_MOVE_RE = re.compile(rb"\x1b(\[[0-9;]*H|[78])")
ANSI_RE = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[78]|\][^\x07]*\x07)")


class Terminal:
    """The master side of a pty: everything written to the slave is collected by a thread."""

    def __init__(self, rows: int = 60, columns: int = 120):
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.data = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def raw(self) -> bytes:
        with self.lock:
            return bytes(self.data)

    def text(self) -> str:
        """The output without escape sequences and CRs, for line regexes. A cursor move (the
        screen's rows are drawn with them) counts as a line break."""
        data = CURSOR_MOVE_RE.sub(b"\n", self.raw())
        return ANSI_RE.sub(b"", data).replace(b"\r", b"").decode("utf-8", "replace")

    def type(self, text: str, interval: float = 0.05) -> None:
        for byte in text.encode("latin-1"):
            os.write(self.master, bytes([byte]))
            time.sleep(interval)

    def wait_for(self, pattern: str, timeout: float, raw: bool = False) -> re.Match:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern.encode("latin-1") if raw else pattern, re.MULTILINE)
        while time.monotonic() < deadline:
            m = rx.search(self.raw() if raw else self.text())
            if m:
                return m
            time.sleep(0.1)
        raise TestFailure(f"/{pattern}/ did not appear within {timeout:.0f} s")

    def stty(self) -> str:
        return subprocess.run(["stty", "-a"], stdin=self.slave, capture_output=True, text=True, check=True).stdout


class TestFailure(Exception):
    pass


def bochs_processes_in(workdir: Path) -> list[int]:
    """Bochs processes whose working directory is this test's (never anyone else's Bochs)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "bochs" and Path(os.readlink(entry / "cwd")) == workdir:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def make_run(term: Terminal, guests: list[str]) -> subprocess.Popen:
    cmd = ["make", "--no-print-directory", "run", "MEMORY=8", f"RUN_WORKDIR={WORKDIR}", f"RUN_ISO={ISO}"]
    cmd += [f"GUEST{'' if i == 0 else i + 1}=build/guests/{g}.bin" for i, g in enumerate(guests)]
    env = dict(os.environ, TERM="xterm-256color")
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):   # run as from a shell, not as make test's child
        env.pop(name, None)
    return subprocess.Popen(cmd, cwd=ROOT, stdin=term.slave, stdout=term.slave, stderr=term.slave,
                            env=env, start_new_session=True)


def two_vms(term: Terminal, proc: subprocess.Popen, steps: list[str]) -> None:
    """Keys into the first VM, Ctrl-A n, keys into the second, Ctrl-A x."""
    start = time.monotonic()
    term.wait_for(r"^\[guest\] shell: commands are", 180)
    term.wait_for(r"^\[guest2\] shell: commands are", 60)
    term.wait_for(r"^console: terminal mode on", 60)
    term.wait_for(r"\x1b\[27r", 10, raw=True)  # the scrolling region below the screen
    steps.append(f"both shells up, terminal mode on after {time.monotonic() - start:.1f} s")
    # The focused VM's unfinished line (its prompt) is shown at once, as on a terminal.
    term.wait_for(r"^\[guest\] \$ $", 30)

    term.type("echo Hello World!\r")
    term.wait_for(r"^\[guest\] Hello World!$", 60)
    term.wait_for(r"^\[guest\] shell: input from the keyboard \(IRQ 1\)$", 5)
    # Its screen, drawn in the terminal: row 2 shows the line as typed (Shift for H, W, !).
    term.wait_for(r"\x1b\[2;1H\x1b\[0;37;40m\$ echo Hello World!", 10, raw=True)
    steps.append("typed 'echo Hello World!' into guest: it answered 'Hello World!' (keyboard, Shift)")

    term.type("\x01n")
    term.wait_for(r"^console: keys and screen go to guest2$", 30)
    term.wait_for(r" \[guest2\] VGA screen", 30)  # the title row above the serial output
    steps.append("Ctrl-A n: focus on guest2, its name shown")

    term.type("echo Second VM\r")
    term.wait_for(r"^\[guest2\] Second VM$", 60)
    # Its screen, drawn in the terminal: row 3 holds the reply in light green (VGA 0x0A).
    term.wait_for(r"\x1b\[3;1H\x1b\[0;92;40mSecond VM", 30, raw=True)
    if re.search(r"^\[guest\] Second VM$", term.text(), re.MULTILINE):
        raise TestFailure("the first VM answered keys typed after Ctrl-A n")
    steps.append("typed 'echo Second VM': only guest2 answered; its VGA screen shows the reply")

    term.type("\x01x")
    term.wait_for(r"^\[guest\] stopped: stopped from the console \(Ctrl-A x\)$", 60)
    term.wait_for(r"^\[guest2\] stopped: stopped from the console \(Ctrl-A x\)$", 10)
    term.wait_for(r"^\[guest2\]\s+reason\s+count", 10)   # the exit statistics
    wait_end(proc, 0, "Ctrl-A x")
    steps.append(f"Ctrl-A x: both VMs stopped, reports printed, make run ended with 0 "
                 f"({time.monotonic() - start:.1f} s in all)")


def guest_ends(term: Terminal, proc: subprocess.Popen, steps: list[str]) -> None:
    """The guest shuts down by itself (`exit`): the run ends and gives the terminal back."""
    term.wait_for(r"^console: terminal mode on", 180)
    term.type("exit\r")
    term.wait_for(r"^\[guest\] shell: bye$", 60)
    wait_end(proc, 0, "the guest's exit")
    steps.append("typed 'exit': the guest shut down, make run ended with 0")


def terminated(term: Terminal, proc: subprocess.Popen, steps: list[str]) -> None:
    """SIGTERM to make and the harness (as when the terminal window is closed) mid-run."""
    term.wait_for(r"^console: terminal mode on", 180)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise TestFailure("make run did not end within 30 s of SIGTERM")
    time.sleep(0.5)   # the harness (make's child) may still be restoring the terminal
    steps.append("SIGTERM mid-run: make run ended")


def wait_end(proc: subprocess.Popen, status: int, after: str) -> None:
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise TestFailure(f"make run did not end within 60 s of {after}")
    if code != status:
        raise TestFailure(f"make run ended with status {code} after {after} (expected {status})")


def scenario(name: str, guests: list[str], body) -> bool:
    """Runs `make run` with `guests` on a fresh pty, `body` drives it; then the terminal must be
    as it was and no Bochs of this run left."""
    term = Terminal()
    before = term.stty()
    proc = make_run(term, guests)
    steps: list[str] = []
    try:
        body(term, proc, steps)
        after = term.stty()
        if after != before:
            raise TestFailure(f"the terminal was not restored:\nbefore: {before}\nafter:  {after}")
        time.sleep(0.5)
        left = bochs_processes_in(WORKDIR)
        if left:
            raise TestFailure(f"Bochs processes left behind: {left}")
        steps.append("stty -a unchanged; no Bochs process left")
        ok = True
    except TestFailure as e:
        ok = False
        failure = e
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)   # make and the harness (Bochs has its own group)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for pid in bochs_processes_in(WORKDIR):
            os.kill(pid, signal.SIGKILL)
        os.close(term.slave)
        os.close(term.master)
    for step in steps:
        print(f"console_test: {name}: ok: {step}")
    if not ok:
        print(f"console_test: {name}: FAIL: {failure}")
        print("--- the terminal's last output (escape sequences removed)")
        for line in term.text().splitlines()[-40:]:
            print("  | " + line)
    return ok


def main() -> int:
    if not (ROOT / "build" / "guests" / "shell.bin").is_file():
        print("console_test: build/guests/shell.bin missing: run `make kernel guests` first", file=sys.stderr)
        return 2
    results = [scenario("two VMs", ["shell", "shell"], two_vms),
               scenario("guest ends", ["shell"], guest_ends),
               scenario("SIGTERM", ["shell"], terminated)]
    print(f"console_test: {'PASS' if all(results) else 'FAIL'} ({sum(results)} of {len(results)} scenarios)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
