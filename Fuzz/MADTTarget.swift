// libFuzzer target: the host's reading of the firmware's ACPI tables (ACPIRootPointer.scan,
// ACPIFirmwareTables, MADT), which the machine's firmware or a hostile loader writes. Input: the
// "physical memory" from 0xE0000 on, as the BIOS area holds it: the root pointer is scanned for,
// the RSDT/XSDT and the tables they list are read from the input, and every other address is out
// of reach. Invariants: nothing reads out of bounds (ASan), enabled processors have distinct
// APIC IDs, and there are no more processors than the table has room for.
import Machine

private let base: UInt64 = 0xE_0000

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let memory = Array(input.rest())
    func read(_ address: UInt64, _ count: Int) -> [UInt8]? {
        guard address >= base, count >= 0, address - base <= UInt64(memory.count),
              UInt64(count) <= UInt64(memory.count) - (address - base) else { return nil }
        let start = Int(address - base)
        return Array(memory[start..<start + count])
    }
    // The MADT alone, from the start of the input.
    if let madt = try? MADT(memory) { check(madt, length: memory.count) }
    guard let (_, pointer) = ACPIRootPointer.scan(memory, base: base) else { return }
    guard let madt = try? MADT.find(root: pointer, read: read) else { return }
    check(madt, length: ACPIFirmwareTables.maxTableLength)
}

private func check(_ madt: MADT, length: Int) {
    let enabled = madt.enabledProcessors.map(\.apicID)
    fuzzCheck(Set(enabled).count == enabled.count, "enabled processors share an APIC ID: \(enabled)")
    fuzzCheck(madt.processors.count <= max(0, length - 44) / 8, "\(madt.processors.count) processors in \(length) bytes")
}

func seedImages() -> [(String, [UInt8])] {
    [("tables-1", ACPITables.build(vcpus: 1, apic: true)), ("tables-4", ACPITables.build(vcpus: 4, apic: true)),
     ("no-madt", ACPITables.build())]
}
