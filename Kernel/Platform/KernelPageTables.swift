import X86

// The kernel's own 4-level page tables, replacing the boot tables of boot.S.
//
// Physical memory below 4 GiB stays identity-mapped (VMX structures, guest RAM
// and the boot modules are all addressed physically), but now:
// - page 0 is not present, so a null pointer faults;
// - kernel text is read-only and executable, read-only data is read-only;
// - everything else is not executable (when EFER.NXE is on).
// The first 2 MiB use 4 KiB pages for this; the rest 2 MiB pages.

enum KernelPageTables {
    static let present = PageTableFlags.present.rawValue, writable = PageTableFlags.writable.rawValue
    static let pageSize = PageTableFlags.pageSize.rawValue, noExecute = PageTableFlags.noExecute.rawValue
    /// The four page directories (2048 entries of 2 MiB) mapping the first 4 GiB.
    nonisolated(unsafe) private static var pageDirectories: UInt64 = 0
    /// The page table of the first 2 MiB (4 KiB pages).
    nonisolated(unsafe) private static var firstPageTable: UInt64 = 0

    static func install(frames: inout FrameAllocator) {
        let nx = EFER(rawValue: rdmsr(MSR.ia32EFER)).contains(.nxe) ? noExecute : 0
        let pml4 = frames.allocate()!, pdpt = frames.allocate()!
        let pd = frames.allocate(count: 4)!, pt = frames.allocate()!
        let pml4e = physicalPointer(pml4).assumingMemoryBound(to: UInt64.self)
        let pdpte = physicalPointer(pdpt).assumingMemoryBound(to: UInt64.self)
        let pde = physicalPointer(pd).assumingMemoryBound(to: UInt64.self)
        let pte = physicalPointer(pt).assumingMemoryBound(to: UInt64.self)

        pml4e[0] = pdpt | present | writable
        for i in 0..<4 { pdpte[i] = (pd + UInt64(i) * 4096) | present | writable }
        for i in 0..<2048 { pde[i] = (UInt64(i) << 21) | present | writable | pageSize | nx }
        pde[0] = pt | present | writable
        pageDirectories = pd
        firstPageTable = pt
        let textStart = kernel_start_address(), textEnd = kernel_text_end_address()
        for i in 1..<2048 where (UInt64(i) << 21) < textEnd && (UInt64(i + 1) << 21) > textStart {
            pde[i] &= ~noExecute    // kernel text reaching past the first 2 MiB
        }

        let rodataEnd = kernel_rodata_end_address()
        for i in 1..<512 {
            let address = UInt64(i) << 12
            var flags = present | writable | nx
            if address >= textStart && address < rodataEnd { flags &= ~writable }
            if address >= textStart && address < textEnd { flags &= ~nx }
            pte[i] = address | flags
        }
        pte[0] = 0     // the null page
        precondition(kernel_end_address() <= 4 << 30, "kernel beyond the identity map")
        write_cr3(pml4)
    }

    /// Makes the 4 KiB page at `physical` in the first 2 MiB executable or not (the APs' start-up
    /// page below 1 MiB while they start, HostCPUs). False outside the first 2 MiB.
    static func setExecutable(physical: UInt64, _ executable: Bool) -> Bool {
        guard firstPageTable != 0, physical >= 4096, physical < 2 << 20 else { return false }
        let pte = physicalPointer(firstPageTable).assumingMemoryBound(to: UInt64.self)
        let index = Int(physical >> 12)
        if executable { pte[index] &= ~noExecute } else if EFER(rawValue: rdmsr(MSR.ia32EFER)).contains(.nxe) { pte[index] |= noExecute }
        invlpg(physical & ~0xFFF)
        return true
    }

    /// Makes the identity mapping of [physical, physical + length) uncached (PCD and PWT: UC with
    /// the default PAT, SDM 11.12.3), for a device's registers (the host AHCI HBA's ABAR). The
    /// 2 MiB pages around it become uncached whole: device windows sit above RAM. False when the
    /// range is not in the 2 MiB-page part of the identity map (the first 2 MiB, or above 4 GiB).
    static func mapUncached(physical: UInt64, length: UInt64) -> Bool {
        let (end, overflow) = physical.addingReportingOverflow(length)
        guard pageDirectories != 0, length > 0, !overflow, physical >= 2 << 20, end <= 4 << 30 else { return false }
        let pde = physicalPointer(pageDirectories).assumingMemoryBound(to: UInt64.self)
        let uncached = PageTableFlags.cacheDisable.rawValue | PageTableFlags.writeThrough.rawValue
        var index = Int(physical >> 21)
        while UInt64(index) << 21 < end {
            pde[index] |= uncached
            invlpg(UInt64(index) << 21)
            index += 1
        }
        return true
    }
}
