import Foundation
import XCTest
import Machine

final class PCIMCFGTableTests: XCTestCase {
    func testLayoutAndChecksum() {
        let table = PCIMCFGTable.build(ecamBase: 0xB000_0000, startBus: 0, endBus: 0)
        XCTAssertEqual(table.count, 60)
        XCTAssertEqual(Array(table[0..<4]), Array("MCFG".utf8))
        XCTAssertEqual(table[4], 60)
        XCTAssertEqual(table[8], 1, "revision")
        XCTAssertEqual(table.reduce(UInt8(0), &+), 0, "checksum")
        XCTAssertEqual(Array(table[44..<52]), [0, 0, 0, 0xB0, 0, 0, 0, 0])
        XCTAssertEqual(table[54], 0)
        XCTAssertEqual(table[55], 0)
    }

    func testIaslReadsIt() throws {
        try IASL.requireInstalled()
        let r = try IASL.decompile(PCIMCFGTable.build(ecamBase: 0xB000_0000, endBus: 3), name: "mcfg")
        XCTAssertEqual(r.status, 0, r.output)
        let dsl = r.dsl
        XCTAssertFalse(dsl.lowercased().contains("incorrect checksum"), dsl)
        XCTAssertFalse(dsl.contains("Invalid"), dsl)
        XCTAssertTrue(dsl.contains("Base Address : 00000000B0000000"), dsl)
        XCTAssertTrue(dsl.contains("End Bus Number : 03"), dsl)
    }

    /// In a VM with pci=on: the MCFG after the MADT, listed by the RSDT and XSDT (after the FADT
    /// and the MADT), every checksum right, read back by iasl.
    func testWrittenAndListed() throws {
        for apic in [false, true] {
            let ram = TestRAM(size: 0x10_0000)
            XCTAssertTrue(ACPITables.write(into: ram.memory, vcpus: 15, apic: apic))
            XCTAssertTrue(ACPITables.writeMCFG(into: ram.memory, ecamBase: 0xF000_0000, apic: apic))
            let mcfg = Array(ram.memory.bytes(gpa: ACPITables.mcfgAddress, length: 60)!)
            XCTAssertEqual(mcfg, PCIMCFGTable.build(ecamBase: 0xF000_0000))
            XCTAssertGreaterThanOrEqual(ACPITables.mcfgAddress, ACPITables.madtAddress + 202, "after the largest MADT")
            let rsdtLength = Int(ram.memory.load(UInt32.self, gpa: ACPITables.rsdtAddress + 4)!)
            let xsdtLength = Int(ram.memory.load(UInt32.self, gpa: ACPITables.xsdtAddress + 4)!)
            let rsdt = Array(ram.memory.bytes(gpa: ACPITables.rsdtAddress, length: UInt64(rsdtLength))!)
            let xsdt = Array(ram.memory.bytes(gpa: ACPITables.xsdtAddress, length: UInt64(xsdtLength))!)
            XCTAssertEqual(rsdt.reduce(UInt8(0), &+), 0)
            XCTAssertEqual(xsdt.reduce(UInt8(0), &+), 0)
            let want: [UInt64] = apic ? [ACPITables.fadtAddress, ACPITables.madtAddress, ACPITables.mcfgAddress]
                                      : [ACPITables.fadtAddress, ACPITables.mcfgAddress]
            XCTAssertEqual(rsdtLength, 36 + 4 * want.count)
            XCTAssertEqual(xsdtLength, 36 + 8 * want.count)
            for (i, address) in want.enumerated() {
                XCTAssertEqual(ram.memory.load(UInt32.self, gpa: ACPITables.rsdtAddress + 36 + 4 * UInt64(i)), UInt32(address))
                XCTAssertEqual(ram.memory.load(UInt64.self, gpa: ACPITables.xsdtAddress + 36 + 8 * UInt64(i)), address)
            }
            XCTAssertEqual(ram.memory.load(UInt32.self, gpa: ACPITables.facsAddress), 0x5343_4146, "FACS ('FACS') intact")
            try IASL.requireInstalled()
            for (name, table) in [("xsdt", xsdt), ("rsdt", rsdt)] {
                let r = try IASL.decompile(table, name: name + (apic ? "-apic" : ""))
                XCTAssertEqual(r.status, 0, r.output)
                XCTAssertFalse(r.dsl.lowercased().contains("incorrect checksum"), r.dsl)
                XCTAssertTrue(r.dsl.contains(name == "xsdt" ? "00000000000E0400" : "000E0400"), r.dsl)
            }
        }
    }
}
