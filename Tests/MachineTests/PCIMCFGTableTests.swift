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
}
