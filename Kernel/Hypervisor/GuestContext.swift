import X86

// The guest state the VMCS does not switch, saved and restored when the CPU
// moves from one VM to another (and loaded fresh for a new VM, so no VM ever
// sees another's values):
// - x87/SSE/AVX registers and XCR0: with XSAVE (CR4.OSXSAVE is on in the host)
//   or FXSAVE. The host never uses them, so within one VM they stay live in the
//   registers across exits; only a switch of VM saves them.
// - the SYSCALL MSRs (STAR, LSTAR, CSTAR, FMASK), KERNEL_GS_BASE and TSC_AUX,
//   which VM entry/exit leave alone (SDM Vol. 3C §28.5: only SYSENTER, EFER, PAT,
//   FS/GS base ... are switched by the VMCS).
// - CR2 and DR0-DR3, DR6, which VM entry/exit leave alone too (only DR7 is in the VMCS).
// When the CPU changes from one VM to another, branch predictors are flushed
// (IBPB), the L1 data cache written back and invalidated (IA32_FLUSH_CMD) and CPU
// buffers overwritten (VERW) where CPUID says the CPU can.

struct GuestContext {
    static let switchedMSRs: [UInt32] = [MSR.ia32STAR, MSR.ia32LSTAR, MSR.ia32CSTAR, MSR.ia32FMask,
                                          MSR.ia32KernelGSBase, MSR.ia32TSCAux]
    /// TSC_AUX exists only with RDTSCP (CPUID.80000001H:EDX[27]); writing it otherwise is #GP.
    static let switchedMSRCount = cpuid(0x8000_0001, 0).edx & (1 << 27) != 0 ? 6 : 5
    /// XSAVE/FXSAVE area (64-byte aligned: a frame).
    let area: UnsafeMutableRawPointer
    let areaFrames: Int
    var msrValues: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    var xcr0: UInt64 = 1                         // x87 only, as after reset
    /// DR0, DR1, DR2, DR3, DR6 (reset value 0xFFFF0FF0, SDM Vol. 3B §18.2.3), CR2.
    var debugRegisters: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0xFFFF_0FF0, 0)
    /// The context last loaded on this CPU (its save area): loading another one is a VM switch.
    nonisolated(unsafe) static var lastLoaded: UnsafeMutableRawPointer? = nil
    /// CPUID.(EAX=7,ECX=0):EDX: IBRS/IBPB (bit 26), L1D_FLUSH (bit 28) and MD_CLEAR (bit 10).
    static let structuredEDX = cpuid(0, 0).eax >= 7 ? cpuid(7, 0).edx : 0
    static let hasIBPB = structuredEDX & (1 << 26) != 0
    static let hasL1DFlush = structuredEDX & (1 << 28) != 0
    static let hasMDClear = structuredEDX & (1 << 10) != 0
    let useXSAVE: Bool
    let xsaveMask: UInt64

    /// A fresh context in the processor's reset state (XSAVE header zero: XRSTOR
    /// then puts every component in its initial configuration).
    init?(frames: inout FrameAllocator, useXSAVE: Bool, supportedXCR0: UInt64) {
        self.useXSAVE = useXSAVE
        xsaveMask = supportedXCR0
        let size = useXSAVE ? Int(cpuid(0xD, 0).ecx) : 512
        areaFrames = (size + 4095) / 4096
        guard let address = frames.allocate(count: areaFrames) else { return nil }
        area = physicalPointer(address)
        if !useXSAVE {
            // FXSAVE image of the reset state: FCW 0x037F, MXCSR 0x1F80 (SDM Vol. 1 §10.5.1).
            area.storeBytes(of: UInt16(0x037F), toByteOffset: 0, as: UInt16.self)
            area.storeBytes(of: UInt32(0x1F80), toByteOffset: 24, as: UInt32.self)
        }
    }

    func release(frames: inout FrameAllocator) {
        frames.free(UInt64(UInt(bitPattern: area)), count: areaFrames)
    }

    /// "IBPB, L1D flush, VERW" (what a VM switch does besides switching registers), or "none".
    static var switchBarriers: String {
        var parts: [String] = []
        if hasIBPB { parts.append("IBPB") }
        if hasL1DFlush { parts.append("L1D flush") }
        if hasMDClear { parts.append("VERW") }
        return parts.isEmpty ? "none offered by CPUID" : parts.joined(separator: ", ")
    }

    /// Make this VM's registers the processor's.
    func load() {
        if Self.lastLoaded != area {
            // Another VM ran last: nothing it trained or left in buffers may reach this one.
            if Self.hasIBPB { _ = guarded_wrmsr(MSR.ia32PredCmd, 1) }     // IA32_PRED_CMD.IBPB
            if Self.hasL1DFlush { _ = guarded_wrmsr(MSR.ia32FlushCmd, 1) } // IA32_FLUSH_CMD.L1D_FLUSH
            if Self.hasMDClear { cpu_buffers_clear() }
            Self.lastLoaded = area
            HostEvents.vmSwitches &+= 1
        }
        withUnsafeBytes(of: debugRegisters) { debug_registers_load($0.baseAddress.unsafelyUnwrapped) }
        if useXSAVE {
            // SSE registers are live whatever the guest's XCR0 says (legacy SSE needs only
            // CR4.OSFXSR), so save and restore under the full mask, then give the guest its XCR0.
            xsetbv(0, xsaveMask)
            xrstor_area(area, xsaveMask)
            xsetbv(0, xcr0 | 1)
        } else {
            fxrstor_area(area)
        }
        withUnsafeBytes(of: msrValues) { values in
            for (i, msr) in Self.switchedMSRs.prefix(Self.switchedMSRCount).enumerated() {
                wrmsr(msr, values.load(fromByteOffset: 8 * i, as: UInt64.self))
            }
        }
    }

    /// Take this VM's registers back from the processor.
    mutating func save() {
        withUnsafeMutableBytes(of: &debugRegisters) { debug_registers_save($0.baseAddress.unsafelyUnwrapped) }
        if useXSAVE {
            xcr0 = xgetbv(0)
            xsetbv(0, xsaveMask)
            xsave_area(area, xsaveMask)
        } else {
            fxsave_area(area)
        }
        withUnsafeMutableBytes(of: &msrValues) { values in
            for (i, msr) in Self.switchedMSRs.prefix(Self.switchedMSRCount).enumerated() {
                values.storeBytes(of: rdmsr(msr), toByteOffset: 8 * i, as: UInt64.self)
            }
        }
    }
}

/// DebugRegisters.S and CPUBufferClear.S.
@_extern(c, "debug_registers_save") func debug_registers_save(_ area: UnsafeMutableRawPointer)
@_extern(c, "debug_registers_load") func debug_registers_load(_ area: UnsafeRawPointer)
@_extern(c, "cpu_buffers_clear") func cpu_buffers_clear()
