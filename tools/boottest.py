#!/usr/bin/env python3
"""Boot tests: boot the kernel in Bochs and QEMU and check what it prints on COM1.

    python3 tools/boottest.py [-k PATTERN] [-j 2] [--list] [-v]

The cases live in tools/boot_tests.py (see its docstring for the keys). For each Bochs case
the runner builds a GRUB ISO with tools/mkiso.sh in build/tests/NAME/ (one per distinct command
line and module set), boots it, and checks the exit status and the expected regexes in order.
The kernel is build/swiftvisor.elf, or $SWIFTVISOR_KERNEL.
A Bochs case may also have `type`: [(regex, text)]: when regex appears in the serial output,
text is typed on COM1 (swiftvisor_run.run_bochs's console_input; the hypervisor types it on the
focused guest's keyboard).
The last line of output is "N passed, N failed"; the exit status is 1 if any case failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
import swiftvisor_run  # noqa: E402

KNOWN_KEYS = {"name", "emulator", "cmdline", "modules", "timeout", "status", "expect", "forbid",
              "model", "cpus", "cpu_options", "bochs_extra", "megs", "cpu", "check", "type", "run"}


def load_cases(path: Path) -> list[dict]:
    spec = importlib.util.spec_from_file_location("boot_tests", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    default_forbid = getattr(mod, "DEFAULT_FORBID", [])
    cases, names = [], set()

    def add(item):
        if callable(item):           # a function returning a case or a list of cases
            item = item()
        if isinstance(item, (list, tuple)):
            for sub in item:
                add(sub)
            return
        case = dict(item)
        unknown = set(case) - KNOWN_KEYS
        if unknown:
            raise SystemExit(f"{path}: case {case.get('name')!r}: unknown keys {sorted(unknown)}")
        if case.get("emulator") not in ("bochs", "qemu"):
            raise SystemExit(f"{path}: case {case.get('name')!r}: emulator must be bochs or qemu")
        if case["name"] in names:
            raise SystemExit(f"{path}: duplicate case name {case['name']!r}")
        names.add(case["name"])
        case.setdefault("cmdline", "")
        case.setdefault("modules", [])
        case.setdefault("timeout", 120 if case["emulator"] == "bochs" else 30)
        case.setdefault("status", 0)
        case.setdefault("expect", [])
        case.setdefault("forbid", default_forbid)
        cases.append(case)

    add(list(mod.CASES))
    return cases


def build_isos(cases: list[dict], kernel: Path) -> dict[str, object]:
    """One ISO per distinct (cmdline, modules) among the Bochs cases, in build/tests/NAME/ of
    the first case that needs it. Returns name -> ISO path, or name -> error message."""
    built: dict[tuple, object] = {}
    isos: dict[str, object] = {}
    for case in cases:
        if case["emulator"] != "bochs":
            continue
        key = (case["cmdline"], tuple((str(p), a) for p, a in case["modules"]))
        if key not in built:
            iso = ROOT / "build" / "tests" / case["name"] / "swiftvisor.iso"
            cmd = ["bash", str(TOOLS / "mkiso.sh"), str(iso), str(kernel), case["cmdline"]]
            for path, args in case["modules"]:
                cmd += [str(ROOT / path), args]
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            built[key] = iso if p.returncode == 0 else f"mkiso.sh failed:\n{p.stderr.rstrip()}"
        isos[case["name"]] = built[key]
    return isos


def run_case(case: dict, kernel: Path, iso) -> swiftvisor_run.RunResult | str:
    workdir = ROOT / "build" / "tests" / case["name"]
    if case.get("run"):     # a case that boots something else itself (tools/direct_boot.py)
        return case["run"](case, workdir)
    if case["emulator"] == "bochs":
        if isinstance(iso, str):
            return iso
        kw = {k: case[k] for k in ("model", "megs", "cpu_options", "cpus") if k in case}
        return swiftvisor_run.run_bochs(iso, workdir, case["timeout"],
                                        extra=case.get("bochs_extra", []),
                                        console_input=case.get("type", []), **kw)
    if case.get("type"):
        return "`type` (console input) is supported with Bochs only"
    kw = {k: case[k] for k in ("megs", "cpu") if k in case}
    modules = [(ROOT / p, a) for p, a in case["modules"]]
    return swiftvisor_run.run_qemu(kernel, case["cmdline"], modules, workdir, case["timeout"], **kw)


def check(case: dict, r: swiftvisor_run.RunResult) -> list[str]:
    """Every expectation the run failed, as readable messages (empty: passed)."""
    errors = []
    if r.timed_out:
        errors.append(f"timed out after {case['timeout']} s (the kernel never ended the run)")
    elif r.status is None:
        errors.append("no 'swiftvisor: exit status N' line")
    elif r.status != case["status"]:
        errors.append(f"exit status {r.status}, expected {case['status']}")
    if not r.timed_out and r.status is not None and not r.emulator_agrees:
        if r.emulator == "bochs":
            errors.append(f"Bochs exit code {r.exit_code} after the status line "
                          "(1: PANIC or triple fault; see bochs.log)")
        else:
            errors.append(f"QEMU exit code {r.exit_code}, expected {(r.status << 1) | 1} "
                          "from isa-debug-exit")
    elif r.emulator == "bochs" and r.exit_code not in (0, None) and not r.emulator_agrees:
        errors.append(f"Bochs exit code {r.exit_code} (PANIC or triple fault; see bochs.log)")

    pos, previous = 0, None
    for pattern in case["expect"]:
        rx = re.compile(pattern, re.MULTILINE)
        m = rx.search(r.serial, pos)
        if m:
            pos, previous = m.end(), pattern
            continue
        where = f" after /{previous}/" if previous else ""
        if rx.search(r.serial):
            errors.append(f"expected /{pattern}/{where}: it appears only earlier (out of order)")
        else:
            errors.append(f"expected /{pattern}/{where}: not found")
        break   # the rest of the sequence is meaningless after a miss
    for pattern in case["forbid"]:
        m = re.search(pattern, r.serial, re.MULTILINE)
        if m:
            line = r.serial[r.serial.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
            errors.append(f"forbidden /{pattern}/ found: {line.strip()!r}")
    if case.get("check"):
        try:
            message = case["check"](r)
        except Exception as e:  # a broken check is a failed case, not a crashed runner
            message = f"check raised {type(e).__name__}: {e}"
        if message:
            errors.append(f"check: {message}")
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description="Swiftvisor boot tests (Bochs and QEMU).")
    ap.add_argument("-k", dest="pattern", help="run only cases whose name matches this regex")
    ap.add_argument("-j", dest="jobs", type=int, default=1, help="cases run at once (default 1)")
    ap.add_argument("-v", dest="verbose", action="store_true", help="print each case's serial output")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--cases", default=str(TOOLS / "boot_tests.py"), help="the case file")
    a = ap.parse_args()

    os.chdir(ROOT)
    swiftvisor_run.install_signal_handlers()
    cases = load_cases(Path(a.cases))
    if a.pattern:
        cases = [c for c in cases if re.search(a.pattern, c["name"])]
    if a.list:
        for c in cases:
            print(f"{c['name']:30} {c['emulator']:5} cmdline={c['cmdline']!r}")
        return 0
    if not cases:
        print("no cases selected")
        print("0 passed, 0 failed")
        return 1

    kernel = Path(os.environ.get("SWIFTVISOR_KERNEL", "build/swiftvisor.elf")).resolve()
    print(f"boot tests: {len(cases)} cases, kernel {kernel}, -j {a.jobs}", flush=True)
    results: dict[str, list[str]] = {}
    lock = threading.Lock()
    interrupted = threading.Event()

    if not kernel.is_file():
        for c in cases:
            results[c["name"]] = [f"no kernel at {kernel} (run `make kernel`)"]
            print(f"FAIL {c['name']}: no kernel at {kernel}")
    else:
        isos = build_isos(cases, kernel)

        def one(case):
            try:
                r = run_case(case, kernel, isos.get(case["name"]))
            except Exception as e:
                r = f"{type(e).__name__}: {e}"
            errors = [r] if isinstance(r, str) else check(case, r)
            if interrupted.is_set():
                return
            with lock:  # print each case's report in one piece
                results[case["name"]] = errors
                detail = "" if isinstance(r, str) else f" ({r.summary()})"
                print(f"{'FAIL' if errors else 'PASS'} {case['name']}{detail}")
                for e in errors:
                    print("  - " + e.replace("\n", "\n    "))
                if not isinstance(r, str):
                    if errors:
                        swiftvisor_run.report_failure(r, out=sys.stdout)
                    elif a.verbose:
                        print("\n".join("  | " + l for l in r.serial.splitlines()))
                sys.stdout.flush()

        pool = ThreadPoolExecutor(max_workers=max(1, a.jobs))
        try:
            list(pool.map(one, cases))
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: no emulator may outlive the runner
            interrupted.set()
            pool.shutdown(wait=False, cancel_futures=True)
            swiftvisor_run.kill_all()
            print("interrupted")
            return 130
        pool.shutdown()

    failed = [n for n, e in results.items() if e]
    if failed:
        print("failed: " + " ".join(failed))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
