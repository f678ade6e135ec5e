import X86

// The kernel's GDT (with a 64-bit TSS) and IDT.
//
// VMX needs both to be real: the host-state area holds the TR selector, which
// must not be 0 (SDM Vol. 3C §27.2.3), and the TR, GDTR and IDTR bases, which the
// CPU reloads on every VM exit. The TSS gives #DF, NMI and #MC their own stack
// (IST1) so a fault on a broken stack still reaches its handler.

enum Selector {
    static let kernelCode: UInt16 = 0x08
    static let kernelData: UInt16 = 0x10
    static let tss: UInt16 = 0x18
}

enum DescriptorTables {
    nonisolated(unsafe) static var gdt: UnsafeMutablePointer<UInt64>! = nil
    nonisolated(unsafe) static var tss: UnsafeMutableRawPointer! = nil
    nonisolated(unsafe) static var idt: UnsafeMutablePointer<UInt64>! = nil
    static let tssSize = 104

    static func install(frames: inout FrameAllocator) {
        let gdtPage = frames.allocate()!, tssPage = frames.allocate()!, idtPage = frames.allocate()!
        let istStack = frames.allocate(count: 4)! + 4 * FrameAllocator.frameSize
        gdt = physicalPointer(gdtPage).assumingMemoryBound(to: UInt64.self)
        tss = physicalPointer(tssPage)
        idt = physicalPointer(idtPage).assumingMemoryBound(to: UInt64.self)
        load(gdt: gdt, tss: tss, istStackTop: istStack)

        // Interrupt gates (SDM Vol. 3A §7.14.1): type 0xE, present, DPL 0.
        for vector in 0..<256 {
            let handler = isr_stub_address(Int32(vector))
            let ist: UInt64 = (vector == 2 || vector == 8 || vector == 18) ? 1 : 0
            idt[2 * vector] = (handler & 0xFFFF) | (UInt64(Selector.kernelCode) << 16) | (ist << 32)
                | (0x8E << 40) | (((handler >> 16) & 0xFFFF) << 48)
            idt[2 * vector + 1] = handler >> 32
        }
        loadIDT(base: UInt64(UInt(bitPattern: idt)))
    }

    /// Fills a CPU's GDT (5 entries) and TSS (104 bytes, zeroed memory) and loads them: every CPU
    /// has its own, since LTR marks the TSS descriptor busy and each CPU needs its own IST stack.
    /// Allocation-free: APs run it.
    static func load(gdt: UnsafeMutablePointer<UInt64>, tss: UnsafeMutableRawPointer, istStackTop: UInt64) {
        // Flat descriptors (SDM Vol. 3A §3.4.5) and the 16-byte 64-bit TSS descriptor (§8.2.3).
        gdt[0] = SegmentDescriptor.null.rawValue
        gdt[1] = SegmentDescriptor.code64().rawValue
        gdt[2] = SegmentDescriptor.data().rawValue
        let tssDescriptor = SystemSegmentDescriptor(base: UInt64(UInt(bitPattern: tss)), limit: UInt32(tssSize - 1),
                                                    type: SegmentDescriptor.SystemType.tssAvailable)
        gdt[3] = tssDescriptor.low
        gdt[4] = tssDescriptor.high

        // TSS: RSP0 at offset 4 (unused: no ring 3), IST1 at 36, I/O map base past the limit.
        tss.storeBytes(of: istStackTop, toByteOffset: 36, as: UInt64.self)
        tss.storeBytes(of: UInt16(tssSize), toByteOffset: 102, as: UInt16.self)

        lgdt(gdt, UInt16(5 * 8 - 1))
        reload_segments(Selector.kernelCode, Selector.kernelData)
        ltr(Selector.tss)
    }

    /// The IDT is one for all CPUs: its gates and handlers are the same everywhere.
    static func loadIDT(base: UInt64) {
        lidt(UnsafeRawPointer(bitPattern: UInt(base)), UInt16(256 * 16 - 1))
    }
}
