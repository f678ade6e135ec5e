import X86
import VTx

// An application processor's life in the kernel, from ap_start64 (APStartup.S) on: its own
// GDT, TSS and the shared IDT, IA32_GS_BASE at its record, then VMX operation as the BSP
// entered it (VMXOperation), with the BSP's capability MSRs to compare against, and then it
// waits for commands in its mailbox (host_cpu.h has the protocol and who owns what).
//
// It runs while the BSP owns the heap, the console and every global: this code allocates
// nothing, prints nothing and reads only its record and what the record points to.

@_cdecl("apMain")
func apMain(_ cpu: UnsafeMutablePointer<host_cpu>) -> Never {
    let record = cpu.pointee
    DescriptorTables.load(gdt: UnsafeMutablePointer<UInt64>(bitPattern: UInt(record.gdt)).unsafelyUnwrapped,
                          tss: physicalPointer(record.tss), istStackTop: record.ist_top)
    DescriptorTables.loadIDT(base: record.idt_base)
    wrmsr(MSR.ia32GSBase, UInt64(UInt(bitPattern: cpu)))
    cpu.state = HOST_CPU_STARTED

    if let failure = enterVMXOperation(cpu) {
        cpu.pointee.failure = UInt32(failure.rawValue)
        cpu.state = HOST_CPU_FAILED
        haltForever()
    }
    cpu.state = HOST_CPU_VMX_ON

    // Wait for a command: the BSP writes it, then sends the wake-up IPI.
    HostLocalAPIC.enable()
    while true {
        if cpu.command == HOST_CPU_COMMAND_VMXOFF {
            _ = vmx_vmxoff()
            write_cr4(read_cr4() & ~CR4.vmxe.rawValue)
            cpu.state = HOST_CPU_VMX_OFF
            haltForever()
        }
        sti_hlt_cli()
    }
}

/// VMXOperation.enter's steps on this AP, or why not.
private func enterVMXOperation(_ cpu: UnsafeMutablePointer<host_cpu>) -> host_cpu_failure? {
    let leaf1 = cpuid(1, 0)
    guard leaf1.ecx & (1 << 5) != 0 else { return HOST_CPU_NO_VMX }
    let featureControl = rdmsr(MSR.ia32FeatureControl)
    let lock: UInt64 = 1 << 0, vmxOutsideSMX: UInt64 = 1 << 2
    if featureControl & lock == 0 {
        wrmsr(MSR.ia32FeatureControl, featureControl | vmxOutsideSMX | lock)
    } else if featureControl & vmxOutsideSMX == 0 {
        cpu.pointee.detail = UInt32(truncatingIfNeeded: featureControl)
        return HOST_CPU_FEATURE_CONTROL
    }

    // One set of VMCS controls serves every CPU: this one must offer exactly the BSP's.
    let capabilities = VMXCapabilities(readMSR: { rdmsr($0) })
    let boot = UnsafePointer<VMXCapabilities>(bitPattern: UInt(cpu.pointee.boot_capabilities)).unsafelyUnwrapped
    if let name = capabilities.firstDifference(from: boot.pointee) {
        cpu.pointee.mismatch = name.utf8Start
        cpu.pointee.mismatch_length = UInt64(name.utf8CodeUnitCount)
        return HOST_CPU_CAPABILITY_MISMATCH
    }

    write_cr0(capabilities.cr0.adjust(read_cr0()))
    var cr4 = read_cr4() | CR4.vmxe.rawValue
    if leaf1.ecx & (1 << 26) != 0 { cr4 |= CR4.osxsave.rawValue }      // XSAVE: as the BSP
    write_cr4(capabilities.cr4.adjust(cr4))
    physicalPointer(cpu.pointee.vmxon_region).storeBytes(of: capabilities.vmxBasic.revisionID, as: UInt32.self)
    let status = vmx_vmxon(cpu.pointee.vmxon_region)
    guard status == 0 else {
        cpu.pointee.detail = UInt32(status)
        write_cr4(read_cr4() & ~CR4.vmxe.rawValue)
        return HOST_CPU_VMXON_FAILED
    }
    return nil
}

private func haltForever() -> Never {
    while true {
        cli()
        hlt()
    }
}
