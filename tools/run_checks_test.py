#!/usr/bin/env python3
"""`make run` as a new user meets it: bad variables, stray files, a killed run, a pipe.

  1. bad values: each bad variable or file (VCPUS=99, APIC=maybe, PCI=yes, INPUT=foo,
     MEMORY=100000, MEMORY beyond MEGS, GEUST=, VCPU=, a missing GUEST, a gzip file as GUEST,
     a DISK of odd size, ...) ends `make run` within seconds, before anything is built or Bochs
     starts, with status 2 and exactly one "make run:" line naming it; the checks' image kinds
     agree with the kernel's boot tests (flat, ELF64, Multiboot, bzImage);
  2. random images: seeded random 1 MiB files as GUEST end within seconds: the hypervisor's
     "[guest] stopped: ..." line, "swiftvisor: exit status 1", and Bochs ending by itself
     (emulator exit code 0) after the last line;
  3. a killed DISK= run: while a run holds the image, a second run is refused (status 2, one
     line naming the Bochs); after SIGKILL to the run (harness and Bochs: the image's .lock
     stays behind) and after SIGINT to make, the next run starts and ends normally;
  4. piped output: stdin a pty, stdout a pipe (`make run | tee log`): keys still reach the
     guest, Ctrl-A x ends the run with status 0, and the pty's settings are restored.
Run from the repository root after `make kernel guests` (make test does this).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "run-checks-test"
sys.path.insert(0, str(ROOT / "tools"))
import swiftvisor_run  # noqa: E402

HELLO = "build/guests/hello.bin"
SHELL = "build/guests/shell.bin"


class TestFailure(Exception):
    pass


def make_env() -> dict:
    env = dict(os.environ, TERM="xterm")
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):   # as from a shell, not as make test's child
        env.pop(name, None)
    return env


def make_run(args: list[str], name: str, **popen) -> subprocess.Popen:
    cmd = ["make", "--no-print-directory", "run", f"RUN_WORKDIR={WORK / name}",
           f"RUN_ISO={WORK / (name + '.iso')}"] + args
    popen.setdefault("stdin", subprocess.DEVNULL)
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.STDOUT)
    return subprocess.Popen(cmd, cwd=ROOT, env=make_env(), start_new_session=True, **popen)


def finish(proc: subprocess.Popen, timeout: float, what: str) -> tuple[int, str, float]:
    start = time.monotonic()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        kill_bochs_in(WORK)
        proc.communicate()
        raise TestFailure(f"{what}: still running after {timeout:.0f} s")
    return proc.returncode, (out or b"").decode("utf-8", "replace"), time.monotonic() - start


def bochs_in(directory: Path) -> list[int]:
    """Bochs processes started in `directory` or below (never anyone else's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in ("bochs", "bochs-bin") and \
                    Path(os.readlink(entry / "cwd")).is_relative_to(directory):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def kill_bochs_in(directory: Path) -> None:
    for pid in bochs_in(directory):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---- 1. bad values ----

def bad_values(steps: list[str]) -> None:
    gz = WORK / "initrd.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00" + bytes(60))
    odd = WORK / "odd.img"
    odd.write_bytes(bytes(1000))
    cases = [
        (["GUEST=" + HELLO, "VCPUS=99"], r"VCPUS=99: a VM has 1 to 8 vCPUs"),
        (["GUEST=" + HELLO, "APIC=maybe"], r"APIC=maybe: must be on or off"),
        (["GUEST=" + HELLO, "PCI=yes"], r"PCI=yes: must be on or off"),
        (["GUEST=" + HELLO, "NET=1"], r"NET=1: must be on or off"),
        (["GUEST=" + HELLO, "INPUT=foo"], r"INPUT=foo: must be keyboard, serial or both"),
        (["GUEST=" + HELLO, "MEMORY=100000"], r"MEMORY=100000: guest RAM in MiB, 2 to 3072"),
        (["GUEST=" + HELLO, "MEMORY=1000", "MEGS=512"], r"MEMORY=1000 needs MEGS >= 1024: add MEGS=1024"),
        (["GUEST=" + HELLO, "GUEST2=" + HELLO, "MEMORY=256", "MEGS=512"], r"2 guests of MEMORY=256 needs MEGS >= 544: add MEGS=544"),
        (["GUEST=" + HELLO, "GUEST2=" + HELLO, "MEMORY2=abc"], r"MEMORY2=abc: guest RAM in MiB, 2 to 3072"),
        (["GEUST=" + HELLO], r"GEUST=\S+: no such variable; did you mean GUEST=\?"),
        (["GUEST=" + HELLO, "VCPU=2"], r"VCPU=2: no such variable; did you mean VCPUS=\?"),
        (["GUEST=" + HELLO, "memory=8"], r"memory=8: no such variable; did you mean MEMORY=\?"),
        (["GUEST=build/guests/no-such.bin"], r"GUEST=build/guests/no-such.bin: no such file"),
        (["GUEST=build/guests"], r"GUEST=build/guests: not a regular file"),
        (["GUEST=" + str(gz)], r"GUEST=\S+: gzip-compressed data, not a kernel"),
        (["GUEST=" + HELLO, "INITRD=/no/such/initrd"], r"INITRD=/no/such/initrd: no such file"),
        (["GUEST=" + HELLO, "DISK=" + str(odd)], r"DISK=\S+: 1000 bytes: a disk image is a whole number"),
        (["DISK=" + str(odd.with_name("x"))], r"DISK=\S+: no such file"),
        (["VCPUS=2"], r"VCPUS=2: only with GUEST="),
    ]
    slowest = 0.0
    for args, expected in cases:
        proc = make_run(args, "bad")
        code, out, wall = finish(proc, 60, " ".join(args))
        slowest = max(slowest, wall)
        lines = [line for line in out.splitlines() if line.startswith("make run:")]
        if code != 2:
            raise TestFailure(f"make run {' '.join(args)}: status {code}, expected 2:\n{out}")
        if len(lines) != 1 or not re.search(expected, lines[0]):
            raise TestFailure(f"make run {' '.join(args)}: expected one line /{expected}/, got:\n{out}")
        if "swiftc" in out or "bochs" in out.lower():
            raise TestFailure(f"make run {' '.join(args)}: built or booted before refusing:\n{out}")
    if bochs_in(WORK / "bad"):
        raise TestFailure("a refused run started Bochs")
    steps.append(f"{len(cases)} bad values: each status 2 with its one line (slowest {slowest:.1f} s)")


def image_kinds(steps: list[str]) -> None:
    """run_checks.image_kind against what the kernel's GuestImageKind says of the same files."""
    import run_checks
    bz = bytearray(0x400)
    bz[0x1FE:0x200] = b"\x55\xAA"
    bz[0x202:0x206] = b"HdrS"
    expected = [(ROOT / "build/guests/hello.bin", "flat"), (ROOT / "build/guests/hello64.elf", "elf"),
                (ROOT / "build/guests/multiboot.elf", "multiboot"),
                (ROOT / "build/guests/teachkernel.elf", "multiboot"), (bytes(bz), "linux")]
    for item, kind in expected:
        data = item if isinstance(item, bytes) else item.read_bytes()
        found = run_checks.image_kind(data[:16384])
        if found != kind:
            raise TestFailure(f"{item if not isinstance(item, bytes) else 'a bzImage header'}: "
                              f"image_kind says {found}, the kernel {kind}")
    steps.append(f"image kinds of {len(expected)} images as the kernel detects them")
    # MEGS when none is given: what the guests need, never below 512.
    hello = str(ROOT / HELLO)
    for values, megs in (({"GUEST": hello, "MEMORY": "64"}, 512), ({"GUEST": hello, "MEMORY": "1000"}, 1024),
                         ({"GUEST": hello, "GUEST2": hello, "MEMORY": "256", "MEMORY2": "256"}, 544),
                         ({"GUEST": hello, "GUEST2": hello, "MEMORY": "256", "MEMORY2": "64"}, 512)):
        if run_checks.default_megs(values) != megs:
            raise TestFailure(f"default MEGS for {values}: {run_checks.default_megs(values)}, expected {megs}")
    steps.append("default MEGS fits the guests asked for (512 at least)")


# ---- 2. random images ----

def random_images(steps: list[str]) -> None:
    for seed in (1, 2, 3):
        image = WORK / f"random-{seed}.bin"
        rng = random.Random(seed)
        image.write_bytes(rng.randbytes(1 << 20))
        proc = make_run([f"GUEST={image}"], f"random-{seed}")
        code, out, wall = finish(proc, 120, f"random image {seed}")
        if not re.search(r"^\[guest\] stopped: .+", out, re.MULTILINE):
            raise TestFailure(f"random image {seed}: no '[guest] stopped:' line:\n{out[-3000:]}")
        if not re.search(r"^swiftvisor: exit status 1\r?$", out, re.MULTILINE):
            raise TestFailure(f"random image {seed}: no 'swiftvisor: exit status 1':\n{out[-3000:]}")
        if not re.search(r"^bochs: .*emulator exit code 0, kernel status 1$", out, re.MULTILINE):
            raise TestFailure(f"random image {seed}: Bochs did not end by itself:\n{out[-3000:]}")
        if code != 2:   # make's status for a failed recipe (the harness's was 1)
            raise TestFailure(f"random image {seed}: make run ended with {code}")
        stopped = re.search(r"^\[guest\] stopped: ([^\r\n]{0,60})", out, re.MULTILINE).group(1)
        steps.append(f"random image seed {seed}: ended in {wall:.1f} s, status 1 ({stopped}...)")


# ---- 3. a killed DISK= run ----

def wait_for_holder(image: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = swiftvisor_run.disk_image_holder(image)
        if holder:
            return holder
        time.sleep(0.2)
    raise TestFailure(f"no Bochs opened {image} within {timeout:.0f} s")


def killed_disk_run(steps: list[str]) -> None:
    image = WORK / "disk.img"
    image.write_bytes(bytes(1 << 20))
    lock = image.with_name(image.name + ".lock")
    lock.unlink(missing_ok=True)
    for how in ("SIGKILL", "SIGINT"):
        proc = make_run([f"GUEST={SHELL}", f"DISK={image}"], "disk")
        try:
            wait_for_holder(image, 120)
            if not lock.exists():
                raise TestFailure(f"Bochs holds {image} but made no {lock.name}")
            second = make_run([f"GUEST={HELLO}", f"DISK={image}"], "disk2")
            code, out, wall = finish(second, 60, "a second run on a held image")
            lines = [line for line in out.splitlines() if "in use by" in line]
            if code != 2 or len(lines) != 1 or "Bochs (pid" not in lines[0]:
                raise TestFailure(f"a second run on a held image: status {code}, expected 2 and one line:\n{out}")
            if how == "SIGKILL":
                os.killpg(proc.pid, signal.SIGKILL)     # make and the harness
                kill_bochs_in(WORK / "disk")            # Bochs runs in its own session
            else:
                os.killpg(proc.pid, signal.SIGINT)      # Ctrl-C in the terminal: make and the harness
            proc.communicate(timeout=30)
            deadline = time.monotonic() + 10
            while bochs_in(WORK / "disk") and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
            kill_bochs_in(WORK / "disk")
        left = lock.exists()
        if how == "SIGKILL" and not left:
            raise TestFailure("after SIGKILL no lock was left: the test no longer tests the stale lock")
        if how == "SIGINT" and left:
            raise TestFailure(f"after SIGINT the harness left {lock}")
        rerun = make_run([f"GUEST={HELLO}", f"DISK={image}"], "disk")
        code, out, wall = finish(rerun, 120, f"the run after {how}")
        if code != 0 or not re.search(r"^\[guest\] outcome: \S+ \(expected \S+\): as expected", out, re.MULTILINE):
            raise TestFailure(f"the run after {how}: status {code}:\n{out[-3000:]}")
        removed = re.search(r"^swiftvisor_run: removed \S+\.lock: a Bochs that no longer runs left it$", out, re.MULTILINE)
        if left and not removed:
            raise TestFailure(f"the run after {how}: no note about the stale lock:\n{out[-2000:]}")
        if lock.exists():
            raise TestFailure(f"the run after {how} left {lock}")
        steps.append(f"{how} mid-run ({'lock left' if left else 'no lock left'}); a second run refused "
                     f"('in use by {lines[0].split('in use by ', 1)[-1][:30]}...'); the next run ran in {wall:.1f} s")


# ---- 4. stdin a terminal, stdout a pipe ----

def piped_output(steps: list[str]) -> None:
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    proc = make_run([f"GUEST={SHELL}", "MEMORY=8"], "piped", stdin=slave,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = bytearray()
    lock = threading.Lock()

    def reader():
        while True:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                return
            with lock:
                output.extend(chunk)

    def drain_master():   # what the pty's side would show (nothing is expected there)
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    threading.Thread(target=reader, daemon=True).start()
    threading.Thread(target=drain_master, daemon=True).start()

    def wait_for(pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with lock:
                text = output.decode("utf-8", "replace").replace("\r", "")
            if re.search(pattern, text, re.MULTILINE):
                return
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise TestFailure(f"/{pattern}/ did not appear within {timeout:.0f} s:\n{text[-2000:]}")

    try:
        start = time.monotonic()
        wait_for(r"^swiftvisor_run: stdout is not a terminal: keys go to the focused VM", 180)
        wait_for(r"^\[guest\] shell: commands are", 120)
        for byte in b"echo piped keys\r":
            os.write(master, bytes([byte]))
            time.sleep(0.03)
        wait_for(r"^\[guest\] piped keys$", 60)
        os.write(master, b"\x01x")
        wait_for(r"^\[guest\] stopped: stopped from the console \(Ctrl-A x\)$", 60)
        code = proc.wait(timeout=60)
        if code != 0:
            raise TestFailure(f"make run ended with {code} after Ctrl-A x")
        if termios.tcgetattr(slave) != before:
            raise TestFailure("the terminal's settings were not restored")
        steps.append(f"keys typed on the pty reached the guest with stdout a pipe; Ctrl-A x: status 0, "
                     f"terminal restored ({time.monotonic() - start:.1f} s)")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        kill_bochs_in(WORK / "piped")
        os.close(slave)
        os.close(master)


def main() -> int:
    for guest in (HELLO, SHELL):
        if not (ROOT / guest).is_file():
            print(f"run_checks_test: {guest} missing: run `make kernel guests` first", file=sys.stderr)
            return 2
    WORK.mkdir(parents=True, exist_ok=True)
    ok = True
    for name, body in (("bad values", bad_values), ("image kinds", image_kinds), ("random images", random_images),
                       ("killed DISK= run", killed_disk_run), ("piped output", piped_output)):
        steps: list[str] = []
        start = time.monotonic()
        try:
            body(steps)
            for step in steps:
                print(f"run_checks_test: {name}: ok: {step}")
            print(f"run_checks_test: {name}: passed in {time.monotonic() - start:.1f} s")
        except TestFailure as e:
            ok = False
            for step in steps:
                print(f"run_checks_test: {name}: ok: {step}")
            print(f"run_checks_test: {name}: FAIL: {e}")
        finally:
            kill_bochs_in(WORK)
    print(f"run_checks_test: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
