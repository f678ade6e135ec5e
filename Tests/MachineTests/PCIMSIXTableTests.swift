import XCTest
import Machine

/// The MSI-X table and PBA (PCI Local Bus 3.0 §6.8.2) and the decoding of a message for the
/// local APICs (Intel SDM Vol. 3A §11.11).
final class PCIMSIXTableTests: XCTestCase {
    func testResetStateAndAccessRules() {
        var table = PCIMSIXTable(vectors: 3)
        XCTAssertEqual(table.tableSize, 48)
        for n in 0..<3 {
            XCTAssertEqual(table.readTable(offset: UInt64(n) * 16 + 12, size: 4), 1, "entry \(n) masked at reset")
            XCTAssertEqual(table.readTable(offset: UInt64(n) * 16, size: 8), 0)
        }
        table.writeTable(offset: 0, size: 8, value: 0x0000_0001_FEE0_1003)
        XCTAssertEqual(table.readTable(offset: 0, size: 4), 0xFEE0_1000, "address bits 1:0 read 0")
        XCTAssertEqual(table.readTable(offset: 4, size: 4), 1, "upper address")
        table.writeTable(offset: 8, size: 4, value: 0x4041)
        XCTAssertEqual(table.readTable(offset: 8, size: 8), 0x1_0000_4041, "data and vector control as one qword")
        table.writeTable(offset: 12, size: 4, value: 0xFFFF_FFFE)
        XCTAssertEqual(table.readTable(offset: 12, size: 4), 0, "only bit 0 of vector control is writable")
        // Accesses the spec does not define are ignored: not dword/qword, unaligned, past the table.
        table.writeTable(offset: 8, size: 2, value: 0x99)
        table.writeTable(offset: 9, size: 4, value: 0x99)
        table.writeTable(offset: 4, size: 8, value: 0x99)
        table.writeTable(offset: 48, size: 4, value: 0x99)
        XCTAssertEqual(table.readTable(offset: 8, size: 4), 0x4041)
        XCTAssertEqual(table.readTable(offset: 8, size: 2), 0)
        XCTAssertEqual(table.readTable(offset: 10, size: 4), 0)
        XCTAssertEqual(table.readTable(offset: 48, size: 4), 0)
        XCTAssertEqual(table.readTable(offset: 44, size: 8), 0, "a qword running past the table")
    }

    func testMaskedVectorsArePendingUntilUnmasked() {
        var table = PCIMSIXTable(vectors: 2)
        table.writeTable(offset: 0, size: 4, value: 0xFEE0_0000)
        table.writeTable(offset: 8, size: 4, value: 0x30)
        table.raise(0)
        XCTAssertNil(table.takeMessage(), "MSI-X disabled: nothing")
        XCTAssertEqual(table.pending, 0)
        table.setControl(enabled: true, functionMasked: false)
        table.raise(0)
        XCTAssertNil(table.takeMessage(), "the entry is masked")
        XCTAssertEqual(table.readPBA(offset: 0, size: 8), 1, "pending bit 0")
        table.raise(0xFFFF)
        table.raise(2)
        XCTAssertEqual(table.pending, 1, "NO_VECTOR and vectors past the table raise nothing")
        table.writeTable(offset: 8, size: 4, value: 0x31)     // changed while pending: the new data is sent
        table.writeTable(offset: 12, size: 4, value: 0)
        XCTAssertEqual(table.pending, 0)
        XCTAssertEqual(table.takeMessage(), PCIMSIMessage(address: 0xFEE0_0000, data: 0x31))
        XCTAssertNil(table.takeMessage())
        // Function Mask holds every vector pending; clearing it sends them.
        table.setControl(enabled: true, functionMasked: true)
        table.raise(0)
        XCTAssertNil(table.takeMessage())
        XCTAssertEqual(table.readPBA(offset: 0, size: 4), 1)
        table.setControl(enabled: true, functionMasked: false)
        XCTAssertEqual(table.takeMessage()?.data, 0x31)
        XCTAssertEqual(table.readPBA(offset: 0, size: 4), 0)
        XCTAssertEqual(table.readPBA(offset: 2, size: 4), 0, "unaligned PBA read")
    }

    func testDecodingMessages() throws {
        let fixed = try PCIMSIDelivery(PCIMSIMessage(address: 0xFEE0_3000, data: 0x0041))
        XCTAssertEqual(fixed, PCIMSIDelivery(destination: 3, logicalDestination: false, deliveryMode: .fixed, vector: 0x41))
        let logical = try PCIMSIDelivery(PCIMSIMessage(address: 0xFEE0_1004, data: 0x0141))
        XCTAssertEqual(logical, PCIMSIDelivery(destination: 1, logicalDestination: true, deliveryMode: .lowestPriority, vector: 0x41),
                       "DM = 1 with RH = 0 (Linux's flat logical mode) is logical")
        XCTAssertEqual(try PCIMSIDelivery(PCIMSIMessage(address: 0xFEE0_0000, data: 0x0400)).deliveryMode, .nmi,
                       "NMI ignores the vector")
        func refusal(_ address: UInt64, _ data: UInt32) -> PCIMSIRefusal? {
            do throws(PCIMSIRefusal) { _ = try PCIMSIDelivery(PCIMSIMessage(address: address, data: data)); return nil }
            catch { return error }
        }
        XCTAssertEqual(refusal(0xFED0_0000, 0x41), .addressOutsideAPICRange)
        XCTAssertEqual(refusal(0x1_FEE0_0000, 0x41), .addressOutsideAPICRange, "upper dword set")
        XCTAssertEqual(refusal(0, 0x41), .addressOutsideAPICRange)
        XCTAssertEqual(refusal(0xFEE0_0000, 0x0F), .illegalVector)
        for mode: UInt32 in [2, 3, 5, 6, 7] {
            XCTAssertEqual(refusal(0xFEE0_0000, mode << 8 | 0x41), .unsupportedDeliveryMode, "mode \(mode)")
        }
        XCTAssertNil(refusal(0xFEEF_FFFC, 0xC041), "level trigger bits are taken as an edge")
    }
}
