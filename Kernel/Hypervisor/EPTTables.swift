import VTx

// A guest's extended page tables (SDM Vol. 3C §29.3): 4 levels, guest-physical
// to host-physical. Leaves are 2 MiB pages wherever guest and host addresses are
// both 2 MiB-aligned and at least 2 MiB remain, 4 KiB pages elsewhere; memory
// type write-back (the guest's PAT still applies: "ignore PAT" stays clear).
// A guest-physical address with no leaf is not the guest's: touching it is an
// EPT violation.

struct EPTTables {
    let pml4: UInt64
    /// 2 MiB leaves need IA32_VMX_EPT_VPID_CAP bit 16.
    let use2MiBPages: Bool
    private(set) var tableFrames: [UInt64] = []

    init?(frames: inout FrameAllocator, capability: EPTVPIDCapability) {
        guard let root = frames.allocate() else { return nil }
        pml4 = root
        use2MiBPages = capability.pages2MiB
        tableFrames.append(root)
    }

    /// Map [gpa, gpa+length) to [hpa, hpa+length) read/write/execute.
    mutating func map(gpa: UInt64, hpa: UInt64, length: UInt64, frames: inout FrameAllocator) -> Bool {
        var offset: UInt64 = 0
        while offset < length {
            let g = gpa + offset, h = hpa + offset
            let large: UInt64 = 2 << 20
            if use2MiBPages && g % large == 0 && h % large == 0 && length - offset >= large {
                guard let pd = table(at: g, level: 2, frames: &frames) else { return false }
                pd[EPT.pdIndex(g)] = EPTEntry.page2M(h).rawValue
                offset += large
            } else {
                guard let pt = table(at: g, level: 1, frames: &frames) else { return false }
                pt[EPT.ptIndex(g)] = EPTEntry.page4K(h).rawValue
                offset += 4096
            }
        }
        return true
    }

    /// The EPT pointer for the VMCS: WB paging structures, 4-level walk, A/D flags if offered.
    func pointer(_ capability: EPTVPIDCapability) -> EPTPointer {
        EPTPointer(pml4Address: pml4, memoryType: .writeBack, pageWalkLength: 4,
                   enableAccessedDirty: capability.accessedDirty)
    }

    func release(frames: inout FrameAllocator) {
        for frame in tableFrames { frames.free(frame) }
    }

    /// The table at `level` (3 = PDPT, 2 = PD, 1 = PT) covering `gpa`, created on the way down.
    private mutating func table(at gpa: UInt64, level: Int, frames: inout FrameAllocator) -> UnsafeMutablePointer<UInt64>? {
        var table = pml4
        var current = 4
        while current > level {
            let entries = physicalPointer(table).assumingMemoryBound(to: UInt64.self)
            let index: Int
            switch current {
            case 4: index = EPT.pml4Index(gpa)
            case 3: index = EPT.pdptIndex(gpa)
            default: index = EPT.pdIndex(gpa)
            }
            var entry = EPTEntry(rawValue: entries[index])
            if !entry.isPresent {
                guard let next = frames.allocate() else { return nil }
                tableFrames.append(next)
                entry = EPTEntry.table(next)
                entries[index] = entry.rawValue
            }
            table = entry.address
            current -= 1
        }
        return physicalPointer(table).assumingMemoryBound(to: UInt64.self)
    }
}
