import X86

// Pieces shared by the guest loaders (Multiboot, ELF64, Linux): overflow-checked reads
// from an untrusted image, address arithmetic that reports overflow instead of
// trapping, the boot GDT, and the start states of the two boot modes.

/// Little-endian reads from an untrusted image. Every offset and length comes from the
/// image itself, so every read is bounds-checked without the possibility of overflow.
struct ImageBytes {
    let buffer: UnsafeRawBufferPointer

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var count: UInt64 { UInt64(buffer.count) }

    /// Whether `[offset, offset + length)` lies inside the image (without wrapping).
    @inline(__always)
    func contains(offset: UInt64, length: UInt64) -> Bool {
        length <= count && offset <= count - length
    }

    @inline(__always)
    func read<T: FixedWidthInteger>(_ type: T.Type, at offset: UInt64) -> T? {
        guard contains(offset: offset, length: UInt64(MemoryLayout<T>.size)) else { return nil }
        return T(littleEndian: buffer.baseAddress!.loadUnaligned(fromByteOffset: Int(offset), as: T.self))
    }

    /// The bytes `[offset, offset + length)`, or nil when they are not all inside the image.
    func slice(offset: UInt64, length: UInt64) -> UnsafeRawBufferPointer? {
        guard contains(offset: offset, length: length) else { return nil }
        guard length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: buffer.baseAddress! + Int(offset), count: Int(length))
    }
}

/// Address arithmetic on untrusted values: nil instead of a trap on overflow.
enum LoaderMath {
    /// `start + length`, or nil when it does not fit in 64 bits.
    @inline(__always)
    static func end(_ start: UInt64, _ length: UInt64) -> UInt64? {
        let (sum, overflow) = start.addingReportingOverflow(length)
        return overflow ? nil : sum
    }

    /// `value` rounded up to a multiple of `alignment` (a power of two), or nil on overflow.
    @inline(__always)
    static func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64? {
        guard let bumped = end(value, alignment - 1) else { return nil }
        return bumped & ~(alignment - 1)
    }

    @inline(__always)
    static func alignDown(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
        value & ~(alignment - 1)
    }

    /// Whether `[aStart, aEnd)` and `[bStart, bEnd)` share a byte (empty ranges share none).
    @inline(__always)
    static func overlaps(_ aStart: UInt64, _ aEnd: UInt64, _ bStart: UInt64, _ bEnd: UInt64) -> Bool {
        aStart < aEnd && bStart < bEnd && aStart < bEnd && bStart < aEnd
    }

    /// "16 MiB", "640 KiB" or "1000 bytes": RAM sizes in error messages.
    static func describeSize(_ bytes: UInt64) -> String {
        if bytes != 0 && bytes & 0xFFFFF == 0 { return "\(bytes >> 20) MiB" }
        if bytes != 0 && bytes & 0x3FF == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// `0x…` for addresses in error messages.
    @inline(__always)
    static func hex(_ value: UInt64) -> String { Format.hex(value) }
}

/// The GDT the Multiboot, ELF64 and Linux loaders write (SDM Vol. 3A §3.4.5). Its
/// selectors are the Linux boot protocol's __BOOT_CS = 0x10 and __BOOT_DS = 0x18
/// (Documentation/arch/x86/boot.rst, "32-bit/64-bit boot protocol"); Multiboot leaves
/// the selector values undefined, so it uses the same table.
///
///     0x00 null   0x08 null   0x10 flat code (64-bit or 32-bit)   0x18 flat data
enum BootGDT {
    static let codeSelector: UInt16 = 0x10
    static let dataSelector: UInt16 = 0x18
    static let size: UInt64 = 4 * 8
    static let limit: UInt32 = 4 * 8 - 1

    /// Writes the four descriptors; false (and nothing written) when they do not all fit.
    static func write(at base: UInt64, code64: Bool, into memory: GuestMemory) -> Bool {
        guard memory.contains(gpa: base, length: size) else { return false }
        let code = code64 ? SegmentDescriptor.code64() : SegmentDescriptor.code32()
        return memory.store(SegmentDescriptor.null.rawValue, gpa: base)
            && memory.store(SegmentDescriptor.null.rawValue, gpa: base + 8)
            && memory.store(code.rawValue, gpa: base + 16)
            && memory.store(SegmentDescriptor.data().rawValue, gpa: base + 24)
    }
}

/// The architectural start states the loaders hand over (interrupts off: RFLAGS = 0x2,
/// so IF = 0 and VM = 0; no IDT).
enum BootCPU {
    /// A busy 32/64-bit TSS for TR: VM entry requires a usable TR outside real mode
    /// (SDM Vol. 3C §27.3.1.2); the guest never switches tasks through it.
    static let tr = SegmentState(selector: 0, limit: 0x67, accessRights: .tssBusy64)
    static let flatData = SegmentState(selector: BootGDT.dataSelector, limit: 0xFFFF_FFFF, accessRights: .data())

    /// 32-bit protected mode, paging off: CR0 = PE|ET|NE, CS = 0x10 flat 32-bit code,
    /// DS/ES/FS/GS/SS = 0x18 flat data.
    static func protectedMode(entry: UInt64, stack: UInt64, gdtBase: UInt64) -> CPUStartState {
        var state = CPUStartState(mode: .protected, cr0: [.pe, .et, .ne], cr4: [], efer: [],
                                  rip: entry, rsp: stack,
                                  cs: SegmentState(selector: BootGDT.codeSelector, limit: 0xFFFF_FFFF,
                                                   accessRights: .code32()),
                                  data: flatData, tr: tr)
        state.gdtrBase = gdtBase
        state.gdtrLimit = BootGDT.limit
        return state
    }

    /// 64-bit long mode with paging on the tables at `pml4`: the same control registers
    /// as FlatGuestLoader's long mode, CS = 0x10 64-bit code, data selectors 0x18.
    static func longMode(entry: UInt64, stack: UInt64, pml4: UInt64, gdtBase: UInt64) -> CPUStartState {
        var state = CPUStartState(mode: .long, cr0: [.pe, .mp, .et, .ne, .wp, .pg], cr4: [.pae],
                                  efer: [.lme, .lma, .nxe], rip: entry, rsp: stack,
                                  cs: SegmentState(selector: BootGDT.codeSelector, limit: 0xFFFF_FFFF,
                                                   accessRights: .code64()),
                                  data: flatData, tr: tr)
        state.cr3 = pml4
        state.gdtrBase = gdtBase
        state.gdtrLimit = BootGDT.limit
        return state
    }
}
