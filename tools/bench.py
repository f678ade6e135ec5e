#!/usr/bin/env python3
"""make bench: VM-exit round-trip costs of the bare-metal hypervisor, in Bochs.

Boots the hypervisor with the bench guest (Guests/bench.S) on a deterministic
Bochs (corei7_haswell_4770, `clock: sync=none`: the guest's TSC advances one
tick per emulated instruction), so every figure is an exact instruction count
and the same on every run. Each operation is measured twice in the same run:
through the full Swift exit path, and through a minimal assembly stub (skip the
instruction, VMRESUME) - the baseline the ratio is against.
"""
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import swiftvisor_run  # noqa: E402

# Instructions per round trip. Issue 3 set 150/150/300; issue 9 (isolation on the exit path: the
# VMCALL CPL check, wall-time turns re-arming the preemption timer on every entry) allowed 10% over
# the figures before it (148, 137, 250). Issue 8 brought the exit path (with SMP's per-vCPU state)
# back within 5% of those: no @_cdecl thunk, one compare for "a device timer or the turn's end is
# due", one base pointer and no bounds check for the statistics, CPUID's APIC/shadow-paging
# adjustments skipped above leaf 0x1F.
TARGETS = {"vmcall": 155, "cpuid": 143, "out-uart": 262}
MODEL = "corei7_haswell_4770"


def machine():
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    bochs = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "bochs"], capture_output=True, text=True).stdout
    return f"host {cpu}, {platform.system()} {platform.release()}; Bochs {bochs or '?'} model {MODEL}"


def main():
    work = ROOT / "build" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    iso = work / "bench.iso"
    subprocess.run(["bash", str(ROOT / "tools/mkiso.sh"), str(iso), str(ROOT / "build/swiftvisor.elf"), "",
                    str(ROOT / "build/guests/bench.bin"), "bench baseline=yes"], check=True)
    r = swiftvisor_run.run_bochs(iso, work, 300, model=MODEL)
    rows = re.findall(r"bench: (\S+) (\d+) cycles per round trip, minimal exit stub (\d+), ratio (\S+)", r.serial)
    loop = re.search(r"bench: baseline-loop (\d+) cycles per iteration", r.serial)
    if r.status != 0 or not rows:
        print(r.serial[-3000:])
        print("bench: the bench guest did not complete")
        return 1
    print(f"Swiftvisor exit round trips ({machine()})")
    print("Unit: emulated instructions per round trip (guest TSC under `clock: sync=none`), exiting instruction")
    print(f"included, loop overhead ({loop.group(1) if loop else '?'} per iteration) subtracted. Exact and repeatable.\n")
    print(f"{'operation':<10} {'Swiftvisor':>10} {'minimal stub':>13} {'ratio':>7} {'target':>7}  verdict")
    worst = 0
    for name, full, minimal, _ in rows:
        full, minimal = int(full), int(minimal)
        target = TARGETS.get(name)
        ok = target is None or full <= target
        worst |= 0 if ok else 1
        ratio = f"{full / minimal:.1f}x" if minimal else "n/a"
        print(f"{name:<10} {full:>10} {minimal:>13} {ratio:>7} {target or '-':>7}  {'within target' if ok else 'OVER TARGET'}")
    print("\nFor scale (measured earlier in the same Bochs model, README \"Benchmarks\", not in this run):")
    print("  Linux 6.1 KVM in-kernel VMCALL 1045, CPUID 1054; an OUT forwarded to KVM's user-space VMM 7332.")
    print(f"\nbench run: {r.wall_s:.1f} s wall, {r.ticks:,} instructions in Bochs" if getattr(r, "ticks", None) else "")

    # Memory: the hypervisor's own cost per VM beyond guest RAM, and how many 8 MiB guests fit
    # in a 512 MiB machine at once (targets: <= 64 KiB, >= 16).
    cap_iso = work / "capacity.iso"
    subprocess.run(["bash", str(ROOT / "tools/mkiso.sh"), str(cap_iso), str(ROOT / "build/swiftvisor.elf"), "capacity=yes",
                    str(ROOT / "build/guests/hello.bin"), "hello mem=8"], check=True)
    c = swiftvisor_run.run_bochs(cap_iso, work / "capacity", 600, model=MODEL, megs=512)
    count = re.search(r"capacity: (\d+) VMs of 8 MiB at once", c.serial)
    per_vm = re.search(r"capacity: hypervisor memory per VM beyond guest RAM: (\d+) bytes \((.*)\)", c.serial)
    if not (count and per_vm):
        print(c.serial[-2000:])
        print("bench: the capacity run did not report")
        return 1
    n, overhead = int(count.group(1)), int(per_vm.group(1))
    print(f"\nMemory (Bochs megs=512): {n} VMs of 8 MiB at once (target >= 16: {'met' if n >= 16 else 'MISSED'});")
    print(f"  hypervisor memory per VM beyond guest RAM: {overhead} bytes = {overhead / 1024:.1f} KiB "
          f"(target <= 64 KiB: {'met' if overhead <= 65536 else 'MISSED'}); {per_vm.group(2)}")
    memory_ok = n >= 16 and overhead <= 65536
    disk = disk_read(work)
    linux = linux_boot_ratio() or linux_vcpus() or shadow_paging() or tcp_between_vms(work)
    return linux or disk or worst or (0 if memory_ok else 1)


def tcp_between_vms(work):
    """(e) Issue 11: TCP between two Linux VMs on the virtual switch (the boot test's scenario,
    tools/linux-init/net.sh): 1 MiB with busybox nc, timed by the client from its connection to
    the server's barrier in guest time (the TSC: 50 M emulated instructions of the whole machine,
    both VMs and the hypervisor, per second in Bochs). MiB per 10^9 emulated instructions."""
    if "--no-linux" in sys.argv:
        return 0
    import boot_tests
    case = boot_tests.linux_net_case()
    iso = work / "net.iso"
    args = []
    for path, line in case["modules"]:
        args += [str(ROOT / path), line]
    subprocess.run(["bash", str(ROOT / "tools/mkiso.sh"), str(iso), str(ROOT / "build/swiftvisor.elf"), case["cmdline"], *args],
                   check=True)
    r = swiftvisor_run.run_bochs(iso, work / "net", case["timeout"], model=MODEL, megs=case["megs"],
                                 cpu_options=case["cpu_options"])
    m = re.search(r"^\[neta\] net: tcp 1048576 bytes in (\d+\.\d+) s$", r.serial, re.M)
    ok = re.search(r"^\[netb\] PASS net: 1 MiB over TCP from 10\.0\.0\.1: sha256 matches$", r.serial, re.M)
    if not (m and ok):
        print(r.serial[-3000:])
        print("bench: the TCP transfer between two VMs did not complete")
        return 1
    seconds = float(m.group(1))
    instructions = seconds * 50_000_000
    print(f"\nTCP between two Linux VMs (virtio-net, the virtual switch; busybox nc, 1 MiB): "
          f"{seconds:.2f} s of guest time = {instructions / 1e6:,.0f} M emulated instructions, "
          f"{1e9 / instructions:.2f} MiB per 10^9 instructions")
    return 0


def disk_read(work):
    """(d) Issue 11: the same guest (Guests/diskbench.S) reads 1 MiB of its disk through ATA PIO
    (`rep insw` per sector, READ SECTORS of 128) and 4 MiB through virtio-blk (64 KiB requests, one
    notification each), one VM after the other in one run. VM exits per MiB (every exit of the
    VM but its console hypercalls: setup included) and instructions per MiB (the guest's TSC
    around the reads; hypervisor included). Targets: >= 100x fewer exits than ATA, <= 64 per MiB."""
    iso = work / "disk.iso"
    subprocess.run(["bash", str(ROOT / "tools/mkiso.sh"), str(iso), str(ROOT / "build/swiftvisor.elf"), "",
                    str(ROOT / "build/guests/diskbench.bin"), "diskata disk=4 mem=8 budget=3000",
                    str(ROOT / "build/guests/diskbench.bin"), "diskvirtio pci=on disk=4 mem=8"], check=True)
    r = swiftvisor_run.run_bochs(iso, work / "disk", 600, model=MODEL)
    figures = {}
    for vm, kind in (("diskata", "ata"), ("diskvirtio", "virtio-blk")):
        ticks = re.search(rf"^\[{vm}\] diskbench: {kind} read (\d+) MiB in (\d+) TSC ticks$", r.serial, re.M)
        total = re.search(rf"^\[{vm}\] VM exits: (\d+) in total$", r.serial, re.M)
        vmcalls = re.search(rf"^\[{vm}\]\s+18 VMCALL\s+(\d+)\s", r.serial, re.M)
        if not (ticks and total):
            print(r.serial[-3000:])
            print(f"bench: the {kind} disk read did not complete")
            return 1
        mib = int(ticks.group(1))
        exits = int(total.group(1)) - (int(vmcalls.group(1)) if vmcalls else 0)
        figures[kind] = (exits / mib, int(ticks.group(2)) / mib)
    (ata_exits, ata_ticks), (vio_exits, vio_ticks) = figures["ata"], figures["virtio-blk"]
    ratio = ata_exits / vio_exits
    print("\nDisk read by the same guest (interrupts off; ATA 1 MiB, virtio-blk 4 MiB), one run; per MiB read:")
    print(f"  ATA PIO (rep insw per sector): {ata_exits:>10,.1f} VM exits  {ata_ticks:>14,.0f} instructions")
    print(f"  virtio-blk (64 KiB requests):  {vio_exits:>10,.1f} VM exits  {vio_ticks:>14,.0f} instructions")
    print(f"  virtio-blk: {ratio:,.0f}x fewer exits (target >= 100x: {'met' if ratio >= 100 else 'MISSED'}), "
          f"{vio_exits:.1f} exits per MiB (target <= 64: {'met' if vio_exits <= 64 else 'MISSED'}), "
          f"{ata_ticks / vio_ticks:,.1f}x fewer instructions")
    return 0 if ratio >= 100 and vio_exits <= 64 else 1


def linux_boot_ratio():
    """(a) Linux's boot under the hypervisor against the same kernel, initramfs and command line
    booted directly (GRUB `linux`/`initrd`) in the same Bochs: both runs at once, instructions
    from power-on to the end of the run (BIOS and GRUB included in both; target <= 1.05)."""
    if "--no-linux" in sys.argv:
        return 0
    subprocess.run(["bash", str(ROOT / "tools/linux-guest.sh")], check=True)
    sys.path.insert(0, str(ROOT / "tools"))
    import boot_tests
    cmdline = boot_tests.LINUX_CMDLINE
    runs = {}
    def boot(mode, image="vmlinuz"):
        return subprocess.Popen([sys.executable, str(ROOT / "tools/linux_boot.py"), mode.split("-")[0], "--base", cmdline,
                                 "--workdir", str(ROOT / "build/bench" / f"linux-{mode}"), "--timeout", "900"]
                                + (["--args", "mem=256 budget=20000 expect=poweroff", "--image", image]
                                   if mode.startswith("hv") else []),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    vm_ticks = {}

    def collect(procs):
        for mode, proc in procs.items():
            out, _ = proc.communicate()
            m = re.search(r"bochs: ([\d.]+) s, ([\d,]+) instructions", out)
            marker = "SWIFTVISOR-LINUX-INIT-OK" in out
            if not (m and marker):
                print(out[-3000:])
                print(f"bench: the {mode} Linux boot did not reach its marker")
                return 1
            runs[mode] = (float(m.group(1)), int(m.group(2).replace(",", "")))
            t = re.search(r"the VM ran ([\d,]+) TSC ticks", out)
            if t:
                vm_ticks[mode] = int(t.group(1).replace(",", ""))
        return 0

    # Two Bochs at a time (two cores): the bzImage pair, then the PVH boot.
    if collect({mode: boot(mode) for mode in ("direct", "hv")}) or collect({"hv-pvh": boot("hv-pvh", "vmlinux")}):
        return 1
    (dw, direct), (hw, hv) = runs["direct"], runs["hv"]
    ratio = hv / direct
    print(f"\nLinux boot (Debian {cmdline.split()[0]} ..., 256 MiB guest, initramfs to its /init marker and power-off):")
    print(f"  direct in Bochs:        {direct:>15,} instructions ({dw:.0f} s wall, two Bochs running)")
    print(f"  under Swiftvisor:       {hv:>15,} instructions ({hw:.0f} s wall)")
    print(f"  ratio: {ratio:.3f} (target <= 1.05: {'met' if ratio <= 1.05 else 'MISSED'})")
    pw, pvh = runs["hv-pvh"]
    print("\nLinux by PVH direct boot (the same kernel uncompressed, vmlinux), under Swiftvisor:")
    print(f"  power-on to the end:    {pvh:>15,} instructions ({pw:.0f} s wall), bzImage: {hv:,} ({pvh / hv:.2f}x)")
    if "hv-pvh" in vm_ticks and "hv" in vm_ticks:
        print(f"  VM start to power-off: {vm_ticks['hv-pvh']:>15,} instructions by PVH, {vm_ticks['hv']:,} by bzImage "
              f"(target for PVH <= 1.5 G: {'met' if vm_ticks['hv-pvh'] <= 1_500_000_000 else 'MISSED'})")
    return 0


IDLE_SECONDS = 4


def linux_vcpus():
    """(c) Several vCPUs: Debian's kernel by PVH with 1 and 4 vCPUs (both with the APIC model), instructions
    from the VM's first entry to its power-off less the idle phase (target: 4 vCPUs <= 1.3x one), and
    the exits an idle machine costs per second of guest time: /init idles IDLE_SECONDS between two
    SWIFTVISOR-MARK lines the hypervisor stamps with the exit count and TSC (target: 4 vCPUs <= 2x one)."""
    if "--no-linux" in sys.argv:
        return 0
    sys.path.insert(0, str(ROOT / "tools"))
    import boot_tests
    subprocess.run(["bash", str(ROOT / "tools/linux-guest.sh")], check=True)

    def boot(vcpus):
        return subprocess.Popen([sys.executable, str(ROOT / "tools/linux_boot.py"), "hv", "--base", boot_tests.LINUX_CMDLINE,
                                 "--append", f"swiftvisor.test=idle swiftvisor.idle={IDLE_SECONDS}",
                                 "--workdir", str(ROOT / "build/bench" / f"linux-vcpus{vcpus}"),
                                 "--timeout", "1200", "--image", "vmlinux", "--tail", "400",
                                 "--args", f"mem=256 budget=40000 expect=poweroff apic=on vcpus={vcpus}"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    procs = {vcpus: boot(vcpus) for vcpus in (1, 4)}
    boot_ticks, rates = {}, {}
    tsc_hz = 50_000_000          # Bochs: ips=50000000, clock sync=none: one tick per instruction
    for vcpus, proc in procs.items():
        out, _ = proc.communicate()
        t = re.search(r"the VM ran ([\d,]+) TSC ticks", out)
        marks = re.findall(r"\[linux\] mark: (\d+) VM exits, TSC (\d+)", out)
        if not (t and len(marks) == 2):
            print(out[-3000:])
            print(f"bench: the {vcpus}-vCPU Linux boot did not reach both idle marks and its power-off")
            return 1
        (e0, c0), (e1, c1) = [(int(e), int(c)) for e, c in marks]
        boot_ticks[vcpus] = int(t.group(1).replace(",", "")) - (c1 - c0)
        rates[vcpus] = (e1 - e0) / ((c1 - c0) / tsc_hz)
    print("\nLinux by PVH with several vCPUs (apic=on; VM first entry to power-off, less the idle phase):")
    print(f"  1 vCPU:  {boot_ticks[1]:>15,} instructions")
    print(f"  4 vCPUs: {boot_ticks[4]:>15,} instructions ({boot_ticks[4] / boot_ticks[1]:.2f}x; target <= 1.3x: "
          f"{'met' if boot_ticks[4] <= 1.3 * boot_ticks[1] else 'MISSED'})")
    print(f"Idle ({IDLE_SECONDS} s of guest time between the marks): VM exits per second of guest time")
    print(f"  1 vCPU:  {rates[1]:>10,.0f} exits/s")
    print(f"  4 vCPUs: {rates[4]:>10,.0f} exits/s ({rates[4] / max(rates[1], 1):.2f}x; target <= 2x: "
          f"{'met' if rates[4] <= 2 * rates[1] else 'MISSED'})")
    return 0


def shadow_paging():
    """(d) Shadow paging against EPT: tools/shadow_bench.py, the same guests under each on the
    Haswell model (the paging-stress guest, Linux by PVH, Linux + 200 fork/exec), instructions and
    exits by reason, and the ratios (target for the Linux boot: shadow <= 1.5x EPT)."""
    if "--no-linux" in sys.argv:
        return 0
    sys.path.insert(0, str(ROOT / "tools"))
    import shadow_bench
    return shadow_bench.main()


if __name__ == "__main__":
    sys.exit(main())
