#!/usr/bin/env python3
"""Check the generated code of the VM-exit path (make check-exit-path).

Walks the static call graph of the linked kernel from the Swift exit handler
(the function VMEntryExit.S calls on every VM exit) and fails if anything it can
reach allocates, touches a reference count, runs a lazy global initializer or
dispatches dynamically: the exit path must be plain code.

It also prints the handler's size and the functions it reaches, for review.
"""
import re
import subprocess
import sys

ROOT = "swiftvisor_handle_exit"
FORBIDDEN = [
    "swift_retain", "swift_release", "swift_bridgeObjectRetain", "swift_bridgeObjectRelease",
    "swift_allocObject", "swift_allocBox", "swift_slowAlloc", "swift_once", "swift_dynamicCast",
    "swift_beginAccess", "posix_memalign", "malloc", "free",
]


def disassemble(elf):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf], check=True,
                         capture_output=True, text=True).stdout
    functions, current = {}, None
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
        if m:
            current = m.group(2)
            functions[current] = {"calls": set(), "insns": 0}
            continue
        if current and re.match(r"^\s+[0-9a-f]+:\s", line):
            functions[current]["insns"] += 1
            c = re.search(r"\b(call|jmp)q?\s+[0-9a-f]+ <([^>+]+)>", line)
            if c and c.group(2) != current:
                functions[current]["calls"].add(c.group(2))
            if re.search(r"\bcall\w*\s+\*", line):
                functions[current]["calls"].add("<indirect call>")
    return functions


def main():
    elf = sys.argv[1] if len(sys.argv) > 1 else "build/swiftvisor.elf"
    functions = disassemble(elf)
    if ROOT not in functions:
        print(f"check-exit-path: {ROOT} not found in {elf}")
        return 1
    reached, parent, queue = {ROOT}, {}, [ROOT]
    while queue:
        f = queue.pop()
        for callee in sorted(functions.get(f, {}).get("calls", ())):
            if callee not in reached:
                reached.add(callee)
                parent[callee] = f
                queue.append(callee)
    bad = [f for f in reached if f == "<indirect call>" or any(f == n or f.startswith(n + "_") for n in FORBIDDEN)]
    total = sum(functions.get(f, {}).get("insns", 0) for f in reached)
    print(f"check-exit-path: {len(reached)} functions, {total} instructions reachable from {ROOT}")
    for f in sorted(reached):
        print(f"  {functions.get(f, {}).get('insns', 0):5d}  {f}")
    if bad:
        for f in bad:
            chain, g = [f], f
            while g in parent:
                g = parent[g]
                chain.append(g)
            print("check-exit-path: FORBIDDEN " + " <- ".join(chain))
        print("check-exit-path: 0 passed, 1 failed")
        return 1
    print("check-exit-path: no allocation, reference counting, lazy initialization or indirect calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
