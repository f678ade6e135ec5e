import X86
import VTx
import Machine
import VMX

// The exits of shadow paging (Sources/VMX/ShadowPagingExit.swift) on this processor, against the
// VM: an access to a device page outside RAM (MMIO), the stop reasons, and string I/O run with
// the guest's CR3. Like the rest of the exit path: no allocation, no reference counting, no
// indirect call; the shadow tables are a plain struct behind the VM's pointer.
enum GuestShadowPaging {
    /// An exception exit: nil when it is not a #PF.
    @inline(__always)
    static func exception(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                          _ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool? {
        guard let result = ShadowPagingExit.exception(HardwareVMCS(), &shadow.pointee, memory: vcpu.pointee.memory) else {
            return nil
        }
        return finish(vcpu, regs, shadow, result)
    }

    @inline(__always)
    static func invlpg(_ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool {
        ShadowPagingExit.invlpg(HardwareVMCS(), &shadow.pointee)
        return true
    }

    static func crAccess(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                         _ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool {
        finish(vcpu, regs, shadow, ShadowPagingExit.crAccess(HardwareVMCS(), &regs.pointee, &vcpu.pointee.cpu,
                                                             &shadow.pointee, memory: vcpu.pointee.memory))
    }

    static func efer(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                     _ shadow: UnsafeMutablePointer<ShadowPaging>, write: Bool) -> Bool {
        finish(vcpu, regs, shadow, ShadowPagingExit.efer(HardwareVMCS(), &regs.pointee, &shadow.pointee,
                                                         memory: vcpu.pointee.memory, write: write))
    }

    /// String I/O under shadow paging: StringIOExit walks the guest's own tables, so it runs with
    /// the guest's CR3 in the VMCS.
    static func stringIO(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                         _ q: IOExitQualification, _ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool {
        vmwriteFast(.guestCR3, shadow.pointee.guestCR3)
        let resume = GuestStringIO.handle(vcpu, regs, q)
        shadow.pointee.restoreShadowRoot(HardwareVMCS())
        return resume
    }

    /// A result the VM's machine acts on: a device page (MMIO), or why the VM stops.
    private static func finish(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                               _ shadow: UnsafeMutablePointer<ShadowPaging>, _ result: ShadowPagingExit.Result) -> Bool {
        switch result {
        case .resume:
            return true
        case .outsideRAM(let gpa, let qualification, let linear, let rip, let device):
            if device && (vcpu.pointee.pc.hasAPIC || vcpu.pointee.pc.hasPCI)
                && vcpu.pointee.pc.hasMMIODevice(at: gpa, vcpu: vcpu.pointee.index) {
                // MMIOExit fetches the instruction through the guest's own tables: show it the guest's CR3.
                vmwriteFast(.guestCR3, shadow.pointee.guestCR3)
                let failure = GuestMMIO.handle(vcpu, regs, gpa: gpa)
                shadow.pointee.restoreShadowRoot(HardwareVMCS())
                guard let failure else {
                    VMNetwork.sendQueuedFrames(vcpu.pointee.machine)  // frames a virtio-net notify queued
                    return true
                }
                vcpu.pointee.stop = .mmioFailed(gpa: gpa, failure, rip: vmreadFast(.guestRIP))
                return false
            }
            vcpu.pointee.stop = .eptViolation(gpa: gpa, qualification: qualification, linearAddress: linear, rip: rip)
            return false
        case .exhausted(let rip):
            vcpu.pointee.stop = .shadowPagingExhausted(rip: rip)
            return false
        case .unsupportedCRAccess(let cr, let accessType, let rip):
            vcpu.pointee.stop = .unsupportedCRAccess(controlRegister: cr, accessType: accessType, rip: rip)
            return false
        }
    }
}
