#!/usr/bin/env python3
"""`make run`'s variables and files, checked before anything is built or Bochs starts.

    python3 tools/run_checks.py [--given "NAMES"] [--known "NAMES"] NAME=VALUE...

NAME=VALUE: the run's variables as make sees them (empty: not given). --given: the variables
set on make's command line ($(origin) "command line"), for the spelling check; --known: every
variable the Makefile defines. Each problem is one line on stderr; the exit status is 2 if
there is any, else 0. Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import swiftvisor_run  # noqa: E402

# The variables `make run` reads (README "Running your own kernels").
GUEST_VARIABLES = ["GUEST", "GUEST2", "GUEST3", "GUEST4"]
# Guest n's RAM (MEMORY for the first; MEMORY2... default to MEMORY) and initrd.
MEMORY_VARIABLES = ["MEMORY", "MEMORY2", "MEMORY3", "MEMORY4"]
INITRD_VARIABLES = ["INITRD", "INITRD2", "INITRD3", "INITRD4"]
RUN_VARIABLES = GUEST_VARIABLES + INITRD_VARIABLES + MEMORY_VARIABLES + [
    "DISK", "RAMDISK", "CMDLINE", "CMDLINE2", "CMDLINE3", "CMDLINE4",
    "MEGS", "VCPUS", "APIC", "PCI", "NET", "INPUT",
    "RUN_TIMEOUT", "RUN_WORKDIR", "RUN_ISO"]
# Only meaningful with GUEST= (the demo run has its own module lines).
GUEST_ONLY = INITRD_VARIABLES + ["DISK", "RAMDISK", "CMDLINE", "GUEST2", "GUEST3", "GUEST4",
                                 "VCPUS", "APIC", "PCI", "NET", "INPUT"]
# Bochs's RAM when MEGS is not given: what the guests asked for need, and at least this.
MEGS_DEFAULT_MIN = 512

# The module line's limits (Sources/Machine/GuestModuleLine.swift) and the loaders'.
MEMORY_MIN, MEMORY_MAX = 2, 3072
VCPUS_MAX = 8
FLAT_LOAD_ADDRESS = 0x8000          # Sources/Machine/FlatGuestLoader.swift
# Bochs's RAM beyond the guests' own RAM and the boot modules: the hypervisor and its heap
# (10 MiB free frames short of MEGS before the guests), and each VM's own tables and structures.
MEGS_HEADROOM = 16
MEGS_PER_GUEST = 4


def _distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (GEUST -> GUEST is 1)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def close_to(name: str, known: list[str]) -> str | None:
    """The known variable `name` is probably a misspelling of, or None."""
    best = None
    for k in known:
        if name.upper() == k:
            return k
        limit = 1 if len(k) <= 4 else 2
        dist = _distance(name.upper(), k)
        if dist <= limit and (best is None or dist < best[0]):
            best = (dist, k)
    return best[1] if best else None


def image_kind(data: bytes) -> str:
    """The kernel's detector (Sources/Machine/GuestImageKind.swift), same magic numbers and
    order: linux, multiboot, pvh/elf (not told apart here), flat."""
    if len(data) >= 0x206 and data[0x1FE:0x200] == b"\x55\xAA" and data[0x202:0x206] == b"HdrS":
        return "linux"
    for offset in range(0, min(len(data), 8192) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", data, offset)
        if magic == 0x1BADB002 and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return "multiboot"
    if data[:4] == b"\x7fELF":
        return "elf"
    return "flat"


# What a file that is no kernel often is (the first bytes).
NOT_A_KERNEL = [
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"070701", "a cpio archive"),
    (b"070702", "a cpio archive"),
]


def check_guest(var: str, path: Path, memory_mib: int | None) -> str | None:
    """One line on what is wrong with the kernel image at `path`, or None."""
    with open(path, "rb") as f:
        head = f.read(16384)
    size = path.stat().st_size
    if size == 0:
        return f"{var}={path}: the file is empty"
    for magic, what in NOT_A_KERNEL:
        if head.startswith(magic):
            return f"{var}={path}: {what}, not a kernel (an initrd goes in INITRD=)"
    kind = image_kind(head)
    if kind == "linux":
        version = struct.unpack_from("<H", head, 0x206)[0]
        if version < 0x206:
            return (f"{var}={path}: a bzImage of boot protocol {version >> 8}.{version & 0xFF:02d}: "
                    "the loader needs 2.06 or later")
    elif kind == "elf":
        if head[4] != 2 or struct.unpack_from("<H", head, 18)[0] != 62:
            return (f"{var}={path}: an ELF file that is not ELF64 x86-64 and has no Multiboot header: "
                    "no loader takes it")
        if struct.unpack_from("<H", head, 16)[0] != 2:
            return (f"{var}={path}: an ELF file that is not an executable (ET_EXEC): "
                    "an object file or a shared library?")
    elif kind == "flat" and memory_mib is not None and size > memory_mib * 2**20 - FLAT_LOAD_ADDRESS:
        need = (size + FLAT_LOAD_ADDRESS + 2**20 - 1) // 2**20
        return (f"{var}={path}: a flat binary of {size} bytes does not fit in MEMORY={memory_mib} "
                f"above 0x8000: add MEMORY={need + (need & 1)}")
    return None


def readable_file(var: str, value: str, writable: bool = False) -> str | None:
    path = Path(value)
    if not path.exists():
        return f"{var}={value}: no such file"
    if not path.is_file():
        return f"{var}={value}: not a regular file"
    if not os.access(path, os.R_OK):
        return f"{var}={value}: not readable"
    if writable and not os.access(path, os.W_OK):
        return f"{var}={value}: not writable (Bochs writes the guest's disk writes into it)"
    return None


def on_off(var: str, value: str) -> str | None:
    if value not in ("on", "off"):
        return f"{var}={value}: must be on or off"
    return None


def check(values: dict[str, str], given: list[str], known: list[str]) -> list[str]:
    errors: list[str] = []
    known_all = sorted(set(known) | set(RUN_VARIABLES))
    for name in given:
        if name in known_all:
            continue
        meant = close_to(name, known_all)
        if meant:
            errors.append(f"{name}={values.get(name, '')}: no such variable; did you mean {meant}=?")

    v = {name: values.get(name, "") for name in RUN_VARIABLES}
    guest = v["GUEST"]

    memories = {}
    for n, name in enumerate(MEMORY_VARIABLES):
        # MEMORY2... default to MEMORY's value (the Makefile): only a value of their own is checked.
        if n > 0 and (not v[GUEST_VARIABLES[n]] or v[name] == v["MEMORY"]):
            if v[name] and v[name] == v["MEMORY"] and "MEMORY" in memories:
                memories[name] = memories["MEMORY"]
            continue
        if v[name]:
            if not v[name].isdigit() or not MEMORY_MIN <= int(v[name]) <= MEMORY_MAX:
                errors.append(f"{name}={v[name]}: guest RAM in MiB, {MEMORY_MIN} to {MEMORY_MAX}")
            else:
                memories[name] = int(v[name])
    memory = memories.get("MEMORY")
    megs = None
    if v["MEGS"]:
        if not v["MEGS"].isdigit() or int(v["MEGS"]) < 32:
            errors.append(f"MEGS={v['MEGS']}: Bochs's RAM in MiB, 32 or more")
        else:
            megs = int(v["MEGS"])
    if v["VCPUS"] and (not v["VCPUS"].isdigit() or not 1 <= int(v["VCPUS"]) <= VCPUS_MAX):
        errors.append(f"VCPUS={v['VCPUS']}: a VM has 1 to {VCPUS_MAX} vCPUs")
    for name in ("APIC", "PCI", "NET"):
        if v[name]:
            e = on_off(name, v[name])
            if e:
                errors.append(e)
    if v["INPUT"] and v["INPUT"] not in ("keyboard", "serial", "both"):
        errors.append(f"INPUT={v['INPUT']}: must be keyboard, serial or both")
    if v["RUN_TIMEOUT"]:
        try:
            if float(v["RUN_TIMEOUT"]) < 0:
                raise ValueError
        except ValueError:
            errors.append(f"RUN_TIMEOUT={v['RUN_TIMEOUT']}: seconds, 0 for none")

    module_bytes = 0
    guests = 0
    guest_memory = 0
    for n, name in enumerate(GUEST_VARIABLES):
        if not v[name]:
            continue
        guests += 1
        mine = memories.get(MEMORY_VARIABLES[n], memory)
        guest_memory += (mine or 0) + MEGS_PER_GUEST
        e = readable_file(name, v[name])
        if e is None:
            module_bytes += Path(v[name]).stat().st_size
            e = check_guest(name, Path(v[name]), mine)
        if e:
            errors.append(e)
    for name in INITRD_VARIABLES + ["RAMDISK"]:
        if v[name]:
            e = readable_file(name, v[name])
            if e is None:
                module_bytes += Path(v[name]).stat().st_size
                if Path(v[name]).stat().st_size == 0:
                    e = f"{name}={v[name]}: the file is empty"
            if e:
                errors.append(e)
    if v["DISK"]:
        e = readable_file("DISK", v["DISK"], writable=True)
        if e is None:
            size = Path(v["DISK"]).stat().st_size
            if size == 0 or size % 512:
                e = f"DISK={v['DISK']}: {size} bytes: a disk image is a whole number of 512-byte sectors"
            else:
                holder = swiftvisor_run.disk_image_holder(v["DISK"])
                if holder:
                    e = f"DISK={v['DISK']}: in use by {holder}: end it first"
        if e:
            errors.append(e)

    if not guest:
        for name in GUEST_ONLY:
            if v[name] and not any(e.startswith(f"{name}=") for e in errors):
                errors.append(f"{name}={v[name]}: only with GUEST= (the demo run takes its own guests)")
    if guest and memory is not None and megs is not None:
        need = megs_needed(guest_memory, module_bytes)
        if megs < need:
            what = f"{guests} guests of MEMORY={memory}" if guests > 1 else f"MEMORY={memory}"
            errors.append(f"{what} needs MEGS >= {need}: add MEGS={need}")
    return errors


def megs_needed(guest_memory_mib: int, module_bytes: int) -> int:
    """Bochs's RAM for guests of `guest_memory_mib` (their RAM and tables) and boot modules of
    `module_bytes`, with the hypervisor's headroom, in steps of 32 MiB."""
    need = guest_memory_mib + -(-module_bytes // 2**20) + MEGS_HEADROOM
    return -(-need // 32) * 32


def default_megs(values: dict) -> int:
    """MEGS when the user gives none: what the guests need, at least MEGS_DEFAULT_MIN (missing
    files and bad numbers count as nothing: the checks report them)."""
    memory = int(values.get("MEMORY") or 0) if (values.get("MEMORY") or "").isdigit() else 0
    total, modules = 0, 0
    for n, name in enumerate(GUEST_VARIABLES):
        if not values.get(name):
            continue
        mine = values.get(MEMORY_VARIABLES[n]) or ""
        total += (int(mine) if mine.isdigit() else memory) + MEGS_PER_GUEST
    for name in GUEST_VARIABLES + INITRD_VARIABLES + ["RAMDISK"]:
        path = values.get(name)
        if path and Path(path).is_file():
            modules += Path(path).stat().st_size
    return max(MEGS_DEFAULT_MIN, megs_needed(total, modules))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--given", default="", help="variables set on make's command line")
    ap.add_argument("--known", default="", help="variables the Makefile defines")
    ap.add_argument("--default-megs", action="store_true",
                    help="print the MEGS the given guests need (at least 512) and exit")
    ap.add_argument("assignments", nargs="*", metavar="NAME=VALUE")
    a = ap.parse_args(argv)
    values = {}
    for assignment in a.assignments:
        name, _, value = assignment.partition("=")
        values[name] = value
    if a.default_megs:
        print(default_megs(values))
        return 0
    given = a.given.split()
    # A command-line variable's value comes from make's environment for the recipe.
    for name in given:
        values.setdefault(name, os.environ.get(name, ""))
    errors = check(values, given, a.known.split())
    for line in errors:
        print(f"make run: {line}", file=sys.stderr)
    return 2 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
