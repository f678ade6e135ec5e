import X86

/// XSETBV exits unconditionally (SDM Vol. 3C §26.1.2). The host never uses XSAVE
/// state itself, so a valid value goes straight into XCR0; one the processor would
/// refuse raises #GP(0) in the guest, as the real instruction would. XCR0.violation
/// checks every rule of SDM Vol. 2C XSETBV (only XCR0, x87 set, AVX needs SSE, MPX
/// and AMX pairs, AVX-512 all-or-none with AVX, nothing unsupported), and the
/// XSETBV itself runs behind a fault fixup (FaultFixup.S): should the processor
/// still refuse the value, the guest gets the #GP, not the host.
public enum XSETBVExit {
    public static func handle<H: VMXHardware>(_ hw: H, _ regs: inout GuestRegisters, _ cpu: inout VCPUState) {
        let index = UInt32(truncatingIfNeeded: regs.rcx)
        let value = regs.edxEAX
        if XCR0.violation(index: index, value: value, supported: cpu.supportedXCR0) != nil || !hw.setXCR0(value) {
            GuestEvents.injectGeneralProtection(hw)
            return
        }
        GuestEvents.skipInstruction(hw)
    }
}
