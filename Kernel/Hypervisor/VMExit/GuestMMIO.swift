import VTx
import Machine
import VMX

// Emulated MMIO (Sources/VMX/MMIOExit.swift) on this processor, against the VM's PC.
enum GuestMMIO {
    /// The virtual PC's MMIO space as MMIOEmulation sees it (a concrete type: direct calls).
    struct Bus: MMIOBus {
        let vcpu: UnsafeMutablePointer<VCPU>
        mutating func mmioRead(gpa: UInt64, size: Int) -> UInt64? {
            vcpu.pointee.pc.mmioRead(gpa: gpa, size: size, tsc: rdtsc(), vcpu: vcpu.pointee.index)
        }
        mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64) -> Bool {
            vcpu.pointee.pc.mmioWrite(gpa: gpa, size: size, value: value, tsc: rdtsc(), vcpu: vcpu.pointee.index)
        }
        func mmioRegion(gpa: UInt64) -> UInt64? {
            vcpu.pointee.pc.mmioRegion(at: gpa, vcpu: vcpu.pointee.index)
        }
    }

    /// Emulates the access at `gpa`; nil when done (the guest resumes), else why it could not be.
    static func handle(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                       gpa: UInt64) -> MMIOExit.Failure? {
        guard gpa >= vcpu.pointee.memory.size, vcpu.pointee.pc.hasMMIODevice(at: gpa, vcpu: vcpu.pointee.index) else { return .notDevice }
        var bus = Bus(vcpu: vcpu)
        return MMIOExit.handle(HardwareVMCS(), &regs.pointee, gpa: gpa, memory: vcpu.pointee.memory, bus: &bus)
    }
}
