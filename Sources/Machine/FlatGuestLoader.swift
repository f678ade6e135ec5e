import X86

/// Loads a flat binary guest (the project's own test guests) and prepares the
/// machine state its start mode needs. Layout (docs/guests.md):
///
///     0x0500  GDT: null, 0x08 64-bit code, 0x10 data, 0x18 32-bit code
///     0x1000  PML4, 0x2000 PDPT, 0x3000-0x6FFF four page directories (long mode):
///             identity map of 0-4 GiB with 2 MiB pages
///     0x8000  the image and its entry point; the stack grows down from 0x8000
///
/// The identity map deliberately covers more than the guest's RAM: what lies
/// beyond RAM has no EPT mapping, so touching it is an EPT violation the
/// hypervisor reports, not a guest page fault.
public enum FlatGuestLoader {
    public static let gdtAddress: UInt64 = 0x500
    public static let pml4Address: UInt64 = 0x1000
    public static let loadAddress: UInt64 = 0x8000
    public static let codeSelector64: UInt16 = 0x08
    public static let dataSelector: UInt16 = 0x10
    public static let codeSelector32: UInt16 = 0x18

    public enum LoadError: Error, Equatable {
        case emptyImage
        case imageTooLarge(imageSize: UInt64, room: UInt64)
        case memoryTooSmall(UInt64)

        public var description: String {
            switch self {
            case .emptyImage: return "the guest image is empty"
            case .imageTooLarge(let size, let room):
                return "the guest image (\(size) bytes) does not fit in guest RAM above 0x8000 (\(room) bytes)"
            case .memoryTooSmall(let size): return "guest RAM of \(size) bytes is below the 64 KiB minimum"
            }
        }
    }

    public static func load(_ image: UnsafeRawBufferPointer, mode: GuestMode, into memory: GuestMemory) throws(LoadError) -> CPUStartState {
        guard memory.size >= 64 << 10 else { throw .memoryTooSmall(memory.size) }
        guard image.count > 0 else { throw .emptyImage }
        let room = memory.size - loadAddress
        guard UInt64(image.count) <= room else { throw .imageTooLarge(imageSize: UInt64(image.count), room: room) }
        _ = memory.copyIn(image, gpa: loadAddress)

        // GDT (SDM Vol. 3A §3.4.5).
        _ = memory.store(SegmentDescriptor.null.rawValue, gpa: gdtAddress)
        _ = memory.store(SegmentDescriptor.code64().rawValue, gpa: gdtAddress + 8)
        _ = memory.store(SegmentDescriptor.data().rawValue, gpa: gdtAddress + 16)
        _ = memory.store(SegmentDescriptor.code32().rawValue, gpa: gdtAddress + 24)

        let flatData = SegmentState(selector: dataSelector, limit: 0xFFFF_FFFF, accessRights: .data())
        // A busy 32/64-bit TSS for TR: VM entry requires a usable TR outside real mode
        // (SDM Vol. 3C §27.3.1.2); the guest never switches tasks through it.
        let tr = SegmentState(selector: 0, limit: 0x67, accessRights: .tssBusy64)

        var state: CPUStartState
        switch mode {
        case .long:
            // 4-level identity map of 0-4 GiB: one PDPT, four page directories of 2 MiB pages
            // at 0x1000-0x6FFF (RAM is at least 64 KiB, so they always fit).
            _ = IdentityPageTables.write(pml4: pml4Address, gibibytes: 4, into: memory)
            state = CPUStartState(mode: .long, cr0: [.pe, .mp, .et, .ne, .wp, .pg], cr4: [.pae],
                                  efer: [.lme, .lma, .nxe], rip: loadAddress, rsp: loadAddress,
                                  cs: SegmentState(selector: codeSelector64, limit: 0xFFFF_FFFF, accessRights: .code64()),
                                  data: flatData, tr: tr)
            state.cr3 = pml4Address
        case .protected:
            state = CPUStartState(mode: .protected, cr0: [.pe, .et, .ne], cr4: [], efer: [],
                                  rip: loadAddress, rsp: loadAddress,
                                  cs: SegmentState(selector: codeSelector32, limit: 0xFFFF_FFFF, accessRights: .code32()),
                                  data: flatData, tr: tr)
        case .real:
            let realData = SegmentState(selector: 0, limit: 0xFFFF, accessRights: .realMode(code: false))
            state = CPUStartState(mode: .real, cr0: [.et, .ne], cr4: [], efer: [],
                                  rip: loadAddress, rsp: loadAddress - 0x10,
                                  cs: SegmentState(selector: 0, limit: 0xFFFF, accessRights: .realMode(code: true)),
                                  data: realData,
                                  tr: SegmentState(selector: 0, limit: 0xFFFF, accessRights: .tssBusy16))
            state.idtrLimit = 0x3FF        // the real-mode interrupt vector table at 0
        }
        if mode != .real {
            state.gdtrBase = gdtAddress
            state.gdtrLimit = 4 * 8 - 1
        }
        state.rbx = memory.size
        return state
    }
}
