import X86

// XSETBV exits unconditionally (SDM Vol. 3C §26.1.2). The host never uses XSAVE
// state itself, so a valid value goes straight into XCR0; one the processor would
// refuse raises #GP(0) in the guest, as the real instruction would. XCR0.violation
// checks every rule of SDM Vol. 2C XSETBV (only XCR0, x87 set, AVX needs SSE, MPX
// and AMX pairs, AVX-512 all-or-none with AVX, nothing unsupported), and the
// XSETBV itself runs behind a fault fixup (FaultFixup.S): should the processor
// still refuse the value, the guest gets the #GP, not the host.
enum XSETBVExit {
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) {
        let index = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        let value = (regs.pointee.rdx << 32) | (regs.pointee.rax & 0xFFFF_FFFF)
        if XCR0.violation(index: index, value: value, supported: vm.pointee.supportedXCR0) != nil
            || guarded_xsetbv(0, value) != 0 {
            Guest.injectGeneralProtection()
            return
        }
        Guest.skipInstruction()
    }
}
