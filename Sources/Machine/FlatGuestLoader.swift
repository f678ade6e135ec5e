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

    /// Everything `commit` will write, decided and checked.
    public struct Plan: Equatable, Sendable {
        public var mode: GuestMode
        public var imageSize: UInt64
        public var loadAddress: UInt64
        public var entry: UInt64
        public var stack: UInt64
        /// GiB of identity map at `pml4Address` (long mode only, else 0).
        public var identityMappedGibibytes: Int
        /// RBX at entry: the RAM size.
        public var ramSize: UInt64
    }

    public enum LoadError: Error, Equatable, Sendable {
        case emptyImage
        case imageTooLarge(imageSize: UInt64, room: UInt64)
        case memoryTooSmall(UInt64)
        case writeFailed(Structure)

        /// What the commit step writes (for the error that names the one that did not fit).
        public enum Structure: Equatable, Sendable {
            case image, gdt, pageTables
            public var name: StaticString {
                switch self {
                case .image: return "the guest image"
                case .gdt: return "the GDT"
                case .pageTables: return "the identity-map page tables"
                }
            }
        }

        public var description: String {
            switch self {
            case .emptyImage: return "the guest image is empty"
            case .imageTooLarge(let size, let room):
                return "the guest image (\(size) bytes) does not fit in guest RAM above 0x8000 (\(room) bytes)"
            case .memoryTooSmall(let size): return "guest RAM of \(size) bytes is below the 64 KiB minimum"
            case .writeFailed(let what): return "could not write \(what.name) into guest memory"
            }
        }
    }

    /// Checks the image against the RAM size and decides the layout; writes nothing.
    public static func plan(imageSize: UInt64, mode: GuestMode, ramSize: UInt64) throws(LoadError) -> Plan {
        guard ramSize >= 64 << 10 else { throw .memoryTooSmall(ramSize) }
        guard imageSize > 0 else { throw .emptyImage }
        let room = ramSize - loadAddress
        guard imageSize <= room else { throw .imageTooLarge(imageSize: imageSize, room: room) }
        // Long mode: a 4-level identity map of 0-4 GiB, one PDPT and four page directories
        // of 2 MiB pages at 0x1000-0x6FFF (RAM is at least 64 KiB, so they always fit).
        return Plan(mode: mode, imageSize: imageSize, loadAddress: loadAddress, entry: loadAddress,
                    stack: mode == .real ? loadAddress - 0x10 : loadAddress,
                    identityMappedGibibytes: mode == .long ? 4 : 0, ramSize: ramSize)
    }

    /// Writes the plan (image, GDT, page tables) and returns the start state.
    public static func commit(_ plan: Plan, image: UnsafeRawBufferPointer,
                              into memory: GuestMemory) throws(LoadError) -> CPUStartState {
        guard UInt64(image.count) == plan.imageSize, memory.copyIn(image, gpa: plan.loadAddress) else {
            throw .writeFailed(.image)
        }
        // GDT (SDM Vol. 3A §3.4.5).
        guard memory.store(SegmentDescriptor.null.rawValue, gpa: gdtAddress),
              memory.store(SegmentDescriptor.code64().rawValue, gpa: gdtAddress + 8),
              memory.store(SegmentDescriptor.data().rawValue, gpa: gdtAddress + 16),
              memory.store(SegmentDescriptor.code32().rawValue, gpa: gdtAddress + 24) else {
            throw .writeFailed(.gdt)
        }
        if plan.identityMappedGibibytes > 0 {
            guard IdentityPageTables.write(pml4: pml4Address, gibibytes: plan.identityMappedGibibytes, into: memory) else {
                throw .writeFailed(.pageTables)
            }
        }
        return startState(plan)
    }

    public static func load(_ image: UnsafeRawBufferPointer, mode: GuestMode, into memory: GuestMemory) throws(LoadError) -> CPUStartState {
        let plan = try plan(imageSize: UInt64(image.count), mode: mode, ramSize: memory.size)
        return try commit(plan, image: image, into: memory)
    }

    /// The start state the plan's mode needs (pure).
    public static func startState(_ plan: Plan) -> CPUStartState {
        let flatData = SegmentState(selector: dataSelector, limit: 0xFFFF_FFFF, accessRights: .data())
        // A busy 32/64-bit TSS for TR: VM entry requires a usable TR outside real mode
        // (SDM Vol. 3C §27.3.1.2); the guest never switches tasks through it.
        let tr = SegmentState(selector: 0, limit: 0x67, accessRights: .tssBusy64)

        var state: CPUStartState
        switch plan.mode {
        case .long:
            state = CPUStartState(mode: .long, cr0: [.pe, .mp, .et, .ne, .wp, .pg], cr4: [.pae],
                                  efer: [.lme, .lma, .nxe], rip: plan.entry, rsp: plan.stack,
                                  cs: SegmentState(selector: codeSelector64, limit: 0xFFFF_FFFF, accessRights: .code64()),
                                  data: flatData, tr: tr)
            state.cr3 = pml4Address
        case .protected:
            state = CPUStartState(mode: .protected, cr0: [.pe, .et, .ne], cr4: [], efer: [],
                                  rip: plan.entry, rsp: plan.stack,
                                  cs: SegmentState(selector: codeSelector32, limit: 0xFFFF_FFFF, accessRights: .code32()),
                                  data: flatData, tr: tr)
        case .real:
            let realData = SegmentState(selector: 0, limit: 0xFFFF, accessRights: .realMode(code: false))
            state = CPUStartState(mode: .real, cr0: [.et, .ne], cr4: [], efer: [],
                                  rip: plan.entry, rsp: plan.stack,
                                  cs: SegmentState(selector: 0, limit: 0xFFFF, accessRights: .realMode(code: true)),
                                  data: realData,
                                  tr: SegmentState(selector: 0, limit: 0xFFFF, accessRights: .tssBusy16))
            state.idtrLimit = 0x3FF        // the real-mode interrupt vector table at 0
        }
        if plan.mode != .real {
            state.gdtrBase = gdtAddress
            state.gdtrLimit = 4 * 8 - 1
        }
        state.rbx = plan.ramSize
        return state
    }
}
