#!/usr/bin/env bash
# Build the Linux test guest: Debian's kernel and a minimal busybox initramfs.
#   tools/linux-guest.sh [OUTDIR]          (default build/linux)
# Produces OUTDIR/vmlinuz (a copy of the newest /boot/vmlinuz-* of Debian's linux-image-amd64)
# and OUTDIR/initramfs.cpio.gz (static busybox + an /init that mounts proc/sys/dev, prints
# "SWIFTVISOR-LINUX-INIT-OK <uname -r>" on the console and powers off).
# Installs linux-image-amd64, busybox-static and cpio with apt-get when missing (about a
# minute on this project's machines; installing a kernel image does not touch the running
# kernel, and its initramfs/bootloader hooks are allowed to fail). Idempotent: quiet when the
# outputs are up to date.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/linux}
mkdir -p "$out"

newest_vmlinuz() {
    ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1
}

need=()
[[ -n "$(newest_vmlinuz)" ]] || need+=(linux-image-amd64)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)

if [[ ${#need[@]} -gt 0 ]]; then
    echo "linux-guest.sh: installing ${need[*]} (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # linux-image's postinst runs update-initramfs and update-grub hooks, which may fail in a
    # container: the kernel file itself is all we need, checked below.
    if ! log=$(apt-get install -y -q --no-install-recommends "${need[@]}" 2>&1); then
        if ! log2=$(apt-get update -q 2>&1 && apt-get install -y -q --no-install-recommends "${need[@]}" 2>&1); then
            echo "$log" | tail -n 20 >&2
            echo "$log2" | tail -n 20 >&2
            echo "linux-guest.sh: apt-get install finished with errors; checking what got installed" >&2
        fi
    fi
fi

kernel=$(newest_vmlinuz)
[[ -n "$kernel" && -f "$kernel" ]] || { echo "linux-guest.sh: no /boot/vmlinuz-* after installing linux-image-amd64" >&2; exit 1; }
busybox=/bin/busybox
dpkg -s busybox-static >/dev/null 2>&1 || { echo "linux-guest.sh: busybox-static is not installed" >&2; exit 1; }
command -v cpio >/dev/null || { echo "linux-guest.sh: cpio is not installed" >&2; exit 1; }

# vmlinuz: copy when missing or different.
if ! cmp -s "$kernel" "$out/vmlinuz"; then
    cp "$kernel" "$out/vmlinuz"
    echo "linux-guest.sh: $out/vmlinuz from $kernel" >&2
fi

# vmlinux: the uncompressed ELF kernel (the bzImage's XZ payload), for loaders that enter it
# directly (PVH entry, CONFIG_PVH=y): decompressing the bzImage in Bochs costs ~4.5 G of the
# ~7 G instructions to /init.
if [[ ! -f "$out/vmlinux" || "$out/vmlinux" -ot "$out/vmlinuz" ]]; then
    python3 - "$out/vmlinuz" "$out/vmlinux" <<'PY'
import lzma, struct, sys
d = open(sys.argv[1], "rb").read()
setup_sects = d[0x1F1] or 4
payload_offset, payload_length = struct.unpack_from("<II", d, 0x248)
start = (setup_sects + 1) * 512 + payload_offset
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(d[start:start + payload_length])
assert elf[:4] == b"\x7fELF", "the bzImage payload is not an XZ-compressed ELF"
open(sys.argv[2] + ".tmp", "wb").write(elf)
PY
    mv "$out/vmlinux.tmp" "$out/vmlinux"
    echo "linux-guest.sh: $out/vmlinux ($(stat -c %s "$out/vmlinux") bytes, uncompressed)" >&2
fi

# The /init script. Everything it prints goes to /dev/console (console=ttyS0).
init_script='#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "SWIFTVISOR-LINUX-INIT-OK $(uname -r)"
echo "uptime: $(cat /proc/uptime)"
# The interrupt controllers the kernel chose, and how many interrupts each CPU took.
grep -E "^ *(0|LOC|CPU)" /proc/interrupts | sed "s/^/interrupts: /"
# A scenario named on the kernel command line (swiftvisor.test=NAME) runs next: /tests/NAME.sh,
# from tools/linux-init/NAME.sh. It prints its own PASS/FAIL lines; power-off follows either way.
# Without one, swiftvisor.poweroff powers off at once (the boot tests); otherwise the user gets a
# shell on the console (below).
scenario=; user=yes; address=
for word in $(cat /proc/cmdline); do
    case "$word" in
    swiftvisor.test=*) scenario=${word#swiftvisor.test=}; user=no ;;
    swiftvisor.poweroff) user=no ;;
    swiftvisor.ip=*) address=${word#swiftvisor.ip=} ;;
    esac
done
if [ -n "$scenario" ]; then
    if [ -f "/tests/$scenario.sh" ]; then
        echo "SWIFTVISOR-TEST-BEGIN $scenario"
        sh "/tests/$scenario.sh"
        echo "SWIFTVISOR-TEST-END $scenario status $?"
    else
        echo "SWIFTVISOR-TEST-MISSING $scenario"
    fi
fi
if [ "$user" = yes ]; then
    # The virtio drivers (a disk and a network card when the VM has them), /dev/vda on /mnt when
    # it holds a file system, eth0 up with swiftvisor.ip=ADDR[/PREFIX] (default /24).
    for m in $(cat /modules/order); do insmod "/modules/$m.ko" 2>/dev/null; done
    if grep -qs 0x1042 /sys/bus/pci/devices/*/device; then
        i=0
        while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    if [ -b /dev/vda ]; then
        mkdir -p /mnt
        if mount /dev/vda /mnt 2>/dev/null; then echo "swiftvisor: /dev/vda mounted on /mnt"
        else echo "swiftvisor: /dev/vda holds no file system Linux mounts (it stays unmounted)"; fi
    fi
    if [ -n "$address" ] && [ -e /sys/class/net/eth0 ]; then
        case "$address" in */*) ;; *) address="$address/24" ;; esac
        ip link set lo up
        ip addr add "$address" dev eth0 && ip link set eth0 up && echo "swiftvisor: eth0 $(cat /sys/class/net/eth0/address) $address up"
    fi
    echo "swiftvisor: a shell on the console; poweroff (or exit) ends the VM"
    # cttyhack makes the console the controlling terminal of the shell: job control and Ctrl-C work.
    setsid cttyhack sh -l
    sync
    umount /mnt 2>/dev/null
fi
# Power off: busybox poweroff -f calls reboot(RB_POWER_OFF) directly; on a machine without a
# working ACPI S5 the kernel then halts (reboot=t panic=-1 do not apply). If it returns, try
# SysRq o (power off), then halt, then stop here without letting init exit (which panics).
poweroff -f
echo o > /proc/sysrq-trigger 2>/dev/null
halt -f
while :; do sleep 3600; done
'
# The modules the initramfs carries (their dependencies join them): virtio over PCI, the
# block and network drivers, ext4 (which also mounts ext2) and the crc32c its metadata
# checksums need (loaded by name at mount time, so listed here).
wanted_modules=(virtio_pci virtio_blk virtio_net crc32c_generic ext4)
kernel_release=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kernel_release

# The module files, dependencies first, one path (relative to $moddir) a line.
module_order() {
    python3 - "$moddir/modules.dep" "${wanted_modules[@]}" <<'PY'
import sys
deps = {}
for line in open(sys.argv[1]):
    target, _, rest = line.partition(":")
    deps[target.strip()] = rest.split()
by_name = {path.rsplit("/", 1)[1].split(".ko")[0].replace("-", "_"): path for path in deps}
order, seen = [], set()
def visit(path):
    if path in seen:
        return
    seen.add(path)
    for dep in reversed(deps[path]):     # modules.dep lists the deepest dependency last
        visit(dep)
    order.append(path)
for name in sys.argv[2:]:
    if name not in by_name:
        sys.exit(f"linux-guest.sh: module {name} is not in {sys.argv[1]}")
    visit(by_name[name])
print("\n".join(order))
PY
}

copy_modules() {
    local dest=$1 path name
    mkdir -p "$dest"
    if [[ ! -f "$moddir/modules.dep" ]]; then
        echo "linux-guest.sh: no $moddir/modules.dep: the initramfs has no modules (virtio scenarios will fail)" >&2
        : > "$dest/order"
        return
    fi
    : > "$dest/order"
    while read -r path; do
        name=${path##*/}
        case "$name" in
        *.ko.xz) xz -dc "$moddir/$path" > "$dest/${name%.xz}"; name=${name%.xz} ;;
        *.ko.zst) zstd -qdc "$moddir/$path" > "$dest/${name%.zst}"; name=${name%.zst} ;;
        *) cp "$moddir/$path" "$dest/$name" ;;
        esac
        echo "${name%.ko}" >> "$dest/order"
    done < <(module_order)
}

# Rebuild when the script, busybox, the modules or this file changed (a stamp holds their digest).
scenarios=("$here"/tools/linux-init/*.sh)
stamp=$( { printf '%s' "$init_script"; cat "$busybox" "$0" "${scenarios[@]}"; module_order 2>/dev/null; } | sha256sum | cut -d' ' -f1)
if [[ -f "$out/initramfs.cpio.gz" && "$(cat "$out/initramfs.stamp" 2>/dev/null)" == "$stamp" ]]; then
    exit 0
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/swiftvisor-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,proc,sys,dev,etc,tmp,root,tests}
cp "$busybox" "$stage/bin/busybox"
# Every applet busybox has (nproc, taskset, sha256sum, nc, ping, ip, mount, ...), as links.
for applet in $("$busybox" --list); do
    [[ -e "$stage/bin/$applet" ]] || ln -s busybox "$stage/bin/$applet"
done
cp "${scenarios[@]}" "$stage/tests/"
# Kernel modules for the virtio scenarios: Debian builds virtio, virtio-pci,
# virtio-blk, virtio-net and ext4 as modules. /modules/NAME.ko (uncompressed: busybox insmod
# reads plain ELF) and /modules/order, dependencies first (modules.dep), for `insmod` in order.
copy_modules "$stage/modules"
printf '%s' "$init_script" > "$stage/init"
chmod 755 "$stage/init"
# The user's shell (sh -l reads /etc/profile): busybox's poweroff and reboot without -f only
# signal init, which this /init does not serve; these act at once, after a sync.
cat > "$stage/etc/profile" <<'PROFILE'
poweroff() { sync; command poweroff -f; }
halt() { sync; command poweroff -f; }
reboot() { sync; command reboot -f; }
PROFILE
# The kernel opens /dev/console for /init before anything is mounted: without the node in the
# initramfs /init runs with no stdout and its output is lost. mknod needs root (we are, in
# tests and CI).
if [[ $(id -u) -eq 0 ]]; then
    mknod -m 600 "$stage/dev/console" c 5 1
    mknod -m 666 "$stage/dev/null" c 1 3
fi
find "$stage" -exec touch -h -d @0 {} +      # fixed mtimes: the same bytes every build
(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --reproducible --quiet -R 0:0) \
    | gzip -9n > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "$stamp" > "$out/initramfs.stamp"
echo "linux-guest.sh: $out/initramfs.cpio.gz ($(stat -c %s "$out/initramfs.cpio.gz") bytes)" >&2
