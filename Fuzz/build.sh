#!/bin/bash
# Builds the libFuzzer targets with Swift's own toolchain: the X86 and Machine
# modules and each target, instrumented with -sanitize=fuzzer,address, into
# build/fuzz/ (plain `swift build` / `swift test` never see these files).
#   Fuzz/build.sh            all targets
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/fuzz
SWIFTC=${SWIFTC:-swiftc}
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O -g)
LINK=(-use-ld=lld)
mkdir -p "$OUT"

newer() {   # newer OUTPUT INPUTS...: whether OUTPUT is missing or older than an input
    local out=$1; shift
    [[ ! -e $out ]] && return 0
    for f in "$@"; do [[ $f -nt $out ]] && return 0; done
    return 1
}

mapfile -t X86_SRC < <(find Sources/X86 -name '*.swift' | sort)
mapfile -t MACHINE_SRC < <(find Sources/Machine -name '*.swift' | sort)
if newer "$OUT/X86.o" "${X86_SRC[@]}" "$0"; then
    echo "fuzz: X86"
    $SWIFTC "${FLAGS[@]}" -wmo -module-name X86 -emit-module -emit-module-path "$OUT/X86.swiftmodule" \
        -c "${X86_SRC[@]}" -o "$OUT/X86.o"
fi
if newer "$OUT/Machine.o" "${MACHINE_SRC[@]}" "$OUT/X86.o" "$0"; then
    echo "fuzz: Machine"
    $SWIFTC "${FLAGS[@]}" -wmo -I "$OUT" -module-name Machine -emit-module -emit-module-path "$OUT/Machine.swiftmodule" \
        -c "${MACHINE_SRC[@]}" -o "$OUT/Machine.o"
fi
# The unit tests' image builders make the seed corpora.
HELPERS=(Tests/MachineTests/LoaderTestSupport.swift Tests/MachineTests/TestSupport.swift)
for target in $(cat Fuzz/targets); do
    src=$(ls Fuzz/*Target.swift | grep -i "/${target}Target.swift$")
    if newer "$OUT/fuzz-$target" "$src" Fuzz/Support.swift "${HELPERS[@]}" "$OUT/Machine.o" "$0"; then
        echo "fuzz: fuzz-$target"
        $SWIFTC "${FLAGS[@]}" -I "$OUT" -module-name "Fuzz_$target" Fuzz/Support.swift "$src" "${HELPERS[@]}" \
            "$OUT/X86.o" "$OUT/Machine.o" "${LINK[@]}" -o "$OUT/fuzz-$target"
    fi
done
