import XCTest
@testable import Machine

/// The DSDT of a VM with PCI: \_SB.PCI0 (PNP0A03) with its resources and INTA routing,
/// read back by ACPICA's disassembler.
final class ACPIPCIRootBridgeTests: XCTestCase {
    func testEisaID() {
        XCTAssertEqual(AML.eisaID("PNP0A03"), 0x030A_D041)
        XCTAssertEqual(AML.eisaID("PNP0C0F"), 0x0F0C_D041)
    }

    func testFitsAndReplacesThePlainDSDT() {
        let table = ACPITables.dsdtWithPCIRootBridge()
        XCTAssertLessThanOrEqual(table.count, ACPITables.dsdtSpace)
        XCTAssertEqual(Array(table[0..<4]), Array("DSDT".utf8))
        XCTAssertEqual(table.reduce(UInt8(0), &+), 0, "checksum")
        let ram = TestRAM(size: 0x10_0000)
        let memory = GuestMemory(base: ram.pointer, size: 0x10_0000)
        XCTAssertTrue(ACPITables.write(into: memory, vcpus: 1, apic: true))
        XCTAssertTrue(ACPITables.writePCIRootBridge(into: memory))
        XCTAssertEqual(Array(memory.bytes(gpa: ACPITables.dsdtAddress, length: UInt64(table.count))!), table)
        XCTAssertEqual(memory.load(UInt32.self, gpa: ACPITables.madtAddress), 0x4349_5041, "the MADT ('APIC') is intact")
    }

    func testIaslDecompilesTheRootBridge() throws {
        try IASL.requireInstalled()
        let r = try IASL.decompile(ACPITables.dsdtWithPCIRootBridge(), name: "dsdt")
        XCTAssertEqual(r.status, 0, r.output)
        let dsl = r.dsl
        XCTAssertFalse(dsl.contains("Invalid"), dsl)
        XCTAssertFalse(dsl.lowercased().contains("incorrect checksum"), dsl)
        for needle in ["Name (_S5, Package (0x04)", "Device (\\_SB.PCI0)", "EisaId (\"PNP0A03\")",
                       "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
                       "0x0CF7", "0x0D00", "DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,",
                       "0xE0000000", "0xEFFFFFFF", "Name (_PRT, Package (0x02)", "0x0001FFFF", "0x0002FFFF"] {
            XCTAssertTrue(dsl.contains(needle), "missing \(needle) in:\n\(dsl)")
        }
        XCTAssertNotNil(dsl.range(of: #"0x0001FFFF,\s*\n?\s*Zero,\s*\n?\s*Zero,\s*\n?\s*0x0A"#, options: .regularExpression), dsl)
        XCTAssertNotNil(dsl.range(of: #"0x0002FFFF,\s*\n?\s*Zero,\s*\n?\s*Zero,\s*\n?\s*0x0B"#, options: .regularExpression), dsl)
    }
}
