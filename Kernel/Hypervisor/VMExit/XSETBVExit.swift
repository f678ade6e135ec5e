// XSETBV exits unconditionally (SDM Vol. 3C §26.1.2). The host never uses
// XSAVE state itself, so a valid value goes straight into XCR0; an invalid one
// raises #GP(0) as the real instruction would (SDM Vol. 2C XSETBV): only XCR0
// exists, x87 (bit 0) must stay set, AVX (bit 2) needs SSE (bit 1), and no bit
// the processor does not support (CPUID.(EAX=0DH,ECX=0):EDX:EAX).
enum XSETBVExit {
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) {
        let index = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        let value = (regs.pointee.rdx << 32) | (regs.pointee.rax & 0xFFFF_FFFF)
        let valid = index == 0 && value & 1 != 0 && value & ~vm.pointee.supportedXCR0 == 0
            && !(value & 4 != 0 && value & 2 == 0)
        if !valid {
            Guest.injectGeneralProtection()
            return
        }
        xsetbv(0, value)
        Guest.skipInstruction()
    }
}
