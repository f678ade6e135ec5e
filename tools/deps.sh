#!/usr/bin/env bash
# Install the Debian packages Swiftvisor's build and tests need, only those missing.
# Idempotent and silent when everything is present.
#   bash tools/deps.sh [EXTRA_PACKAGE...]
#   bash tools/deps.sh --check [EXTRA_PACKAGE...]   only list what is missing (exit 1 if any)
set -euo pipefail

check_only=false
if [[ ${1:-} == --check ]]; then check_only=true; shift; fi

packages=(
    bochs bochsbios vgabios bochs-term      # Bochs 2.7: emulates VMX with EPT (the hypervisor tests)
    grub-pc-bin grub-common xorriso mtools  # grub-mkrescue: the bootable ISO for Bochs
    qemu-system-x86                         # QEMU TCG: fast boots without VMX
    binutils                                # objcopy (ELF64 -> ELF32 for QEMU -kernel), objdump
    python3                                 # tools/swiftvisor_run.py, tools/boottest.py
    acpica-tools                            # iasl: the ACPI tables' unit test decompiles them
    pyflakes3                               # make lint: tools/ and Fuzz/
    "$@"
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if $check_only; then echo "deps.sh: missing ${missing[*]}"; exit 1; fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "deps.sh: missing packages (${missing[*]}) and not root, no sudo" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}"
# Lock::Timeout: wait for another apt/dpkg run (e.g. unattended-upgrades) instead of failing.
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
