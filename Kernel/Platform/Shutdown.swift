// Ending a run so that the harness can read its status, in both emulators.
//
// The status line on COM1 is the contract ("swiftvisor: exit status N"). Then:
// QEMU's isa-debug-exit device (port 0xF4) ends QEMU with (N << 1) | 1, and
// Bochs's magic breakpoint (xchg bx, bx) hands control to the debugger script,
// which quits. On real hardware neither exists and the CPU halts.

func endRun(status: Int) -> Never {
    print("swiftvisor: exit status \(status)")
    Serial.drain()
    outb(0xF4, UInt8(truncatingIfNeeded: status))
    bochs_magic_break()
    while true {
        cli()
        hlt()
    }
}
