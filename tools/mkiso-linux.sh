#!/usr/bin/env bash
# Build a GRUB (BIOS, i386-pc) rescue ISO that boots a Linux bzImage directly (no hypervisor):
# the baseline for Linux under Swiftvisor.
#   tools/mkiso-linux.sh OUT.iso VMLINUZ INITRD "KERNEL COMMAND LINE"
# grub.cfg: linux /boot/vmlinuz CMDLINE; initrd /boot/initrd.img; boot
set -euo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 OUT.iso VMLINUZ INITRD \"KERNEL COMMAND LINE\"" >&2
    exit 2
fi
out=$1 kernel=$2 initrd=$3 cmdline=$4
[[ -f "$kernel" ]] || { echo "mkiso-linux.sh: no kernel at $kernel" >&2; exit 1; }
[[ -f "$initrd" ]] || { echo "mkiso-linux.sh: no initrd at $initrd" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/swiftvisor-linux-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$kernel" "$stage/boot/vmlinuz"
cp "$initrd" "$stage/boot/initrd.img"
cat > "$stage/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
menuentry "Linux" {
    linux /boot/vmlinuz $cmdline
    initrd /boot/initrd.img
    boot
}
CFG

mkdir -p "$(dirname "$out")"
if ! log=$(grub-mkrescue -d /usr/lib/grub/i386-pc \
        --install-modules="linux normal iso9660 biosdisk" \
        --fonts= --locales= --themes= \
        -o "$out" "$stage" 2>&1); then
    echo "$log" >&2
    echo "mkiso-linux.sh: grub-mkrescue failed" >&2
    exit 1
fi
