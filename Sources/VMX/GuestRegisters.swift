import VTx
@_exported import GuestRegisterBlock

/// The guest's general-purpose registers as VMEntryExit.S saves them on every exit:
/// guest_registers.h (Sources/GuestRegisterBlock) declares the block once, slot n being
/// register n of the SDM's numbering. The VMCS holds RSP (slot 4 is unused) and RIP.
public typealias GuestRegisters = guest_registers

extension GuestRegisters {
    /// EDX:EAX, as RDMSR/WRMSR/XSETBV take a 64-bit operand.
    @inline(__always) public var edxEAX: UInt64 { (rdx << 32) | (rax & 0xFFFF_FFFF) }

    /// Register by the SDM's 4-bit GPR number (exit qualifications and
    /// instruction information use it; 4 = RSP lives in the VMCS).
    public func value<H: VMXHardware>(_ number: GeneralPurposeRegister, _ hw: H) -> UInt64 {
        if number == .rsp { return hw.read(.guestRSP) }
        return withUnsafeBytes(of: self) { $0.load(fromByteOffset: 8 * Int(number.rawValue), as: UInt64.self) }
    }

    public mutating func set<H: VMXHardware>(_ number: GeneralPurposeRegister, _ newValue: UInt64, _ hw: H) {
        if number == .rsp { hw.write(.guestRSP, newValue); return }
        withUnsafeMutableBytes(of: &self) { $0.storeBytes(of: newValue, toByteOffset: 8 * Int(number.rawValue), as: UInt64.self) }
    }
}
