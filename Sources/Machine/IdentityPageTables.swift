import X86

/// A 4-level identity map of the low `gibibytes` GiB with 2 MiB pages (SDM Vol. 3A §4.5):
///
///     pml4            PML4: entry 0 → the PDPT
///     pml4 + 0x1000   PDPT: entry i → page directory i
///     pml4 + 0x2000   page directories, one 4 KiB table per GiB, of 2 MiB pages
///
/// Used by FlatGuestLoader (4 GiB at 0x1000), ELF64Loader and LinuxLoader.
public enum IdentityPageTables {
    /// One PDPT covers 512 GiB; more would need further PML4 entries.
    public static let maximumGibibytes = 512

    /// Bytes the tables for `gibibytes` GiB occupy: PML4, PDPT and one directory per GiB.
    public static func size(gibibytes: Int) -> UInt64 {
        UInt64(2 + max(0, gibibytes)) * PageTable.pageSize
    }

    /// GiB an identity map must cover to reach `bytes` (at least 1).
    public static func gibibytes(covering bytes: UInt64) -> Int {
        let gib = (bytes >> 30) + (bytes & (PageTable.hugePageSize - 1) == 0 ? 0 : 1)
        return Int(max(1, min(gib, UInt64(maximumGibibytes) + 1)))
    }

    /// Writes the tables (zeroing the rest of each table page) at the 4 KiB-aligned
    /// `pml4`. False, and nothing written, when they do not fit in RAM or `gibibytes`
    /// is outside 1...512.
    @discardableResult
    public static func write(pml4: UInt64, gibibytes: Int, into memory: GuestMemory) -> Bool {
        guard gibibytes >= 1, gibibytes <= maximumGibibytes, pml4 & 0xFFF == 0,
              memory.contains(gpa: pml4, length: size(gibibytes: gibibytes)) else { return false }
        _ = memory.fill(gpa: pml4, length: size(gibibytes: gibibytes), with: 0)
        let pdpt = pml4 + 0x1000, firstPD = pml4 + 0x2000
        _ = memory.store(PageTableEntry.table(pdpt).rawValue, gpa: pml4)
        for i in 0..<gibibytes {
            let pd = firstPD + UInt64(i) * 0x1000
            _ = memory.store(PageTableEntry.table(pd).rawValue, gpa: pdpt + UInt64(i) * 8)
            for j in 0..<PageTable.entryCount {
                let page = (UInt64(i) << 30) | (UInt64(j) << 21)
                _ = memory.store(PageTableEntry.page2M(page).rawValue, gpa: pd + UInt64(j) * 8)
            }
        }
        return true
    }
}
