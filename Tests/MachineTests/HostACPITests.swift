import XCTest
@testable import Machine

/// Physical memory for the table reader: byte blocks at addresses; a read outside every block,
/// or across a block's end, is nil (out of reach), as the kernel's reader is past 4 GiB.
private struct FakeMemory {
    var blocks: [(base: UInt64, bytes: [UInt8])] = []
    mutating func place(_ bytes: [UInt8], at base: UInt64) { blocks.append((base, bytes)) }
    func read(_ address: UInt64, _ count: Int) -> [UInt8]? {
        for (base, bytes) in blocks where address >= base && address - base + UInt64(count) <= UInt64(bytes.count) {
            let start = Int(address - base)
            return Array(bytes[start..<start + count])
        }
        return nil
    }
}

private func le(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

/// A table with a header (signature, Length, checksum) around `body`.
private func table(_ signature: String, _ body: [UInt8], revision: UInt8 = 1) -> [UInt8] {
    var t = Array(signature.utf8) + le(UInt64(36 + body.count), 4) + [revision, 0] + Array("OEMID ".utf8)
        + Array("TABLEID ".utf8) + le(1, 4) + Array("TEST".utf8) + le(1, 4) + body
    t[9] = ACPITables.checksum(t[...])
    return t
}

private func rsdp(rsdt: UInt32, xsdt: UInt64? = nil) -> [UInt8] {
    var p = Array("RSD PTR ".utf8) + [0] + Array("OEMID ".utf8) + [xsdt == nil ? 0 : 2] + le(UInt64(rsdt), 4)
    p[8] = ACPITables.checksum(p[...])
    guard let xsdt else { return p }
    p += le(36, 4) + le(xsdt, 8) + [0, 0, 0, 0]
    p[32] = ACPITables.checksum(p[...])
    return p
}

private func localAPIC(uid: UInt8, id: UInt8, flags: UInt32 = 1) -> [UInt8] { [0, 8, uid, id] + le(UInt64(flags), 4) }
private func x2APIC(uid: UInt32, id: UInt32, flags: UInt32 = 1) -> [UInt8] {
    [9, 16, 0, 0] + le(UInt64(id), 4) + le(UInt64(flags), 4) + le(UInt64(uid), 4)
}
private func madt(_ structures: [UInt8], address: UInt32 = 0xFEE0_0000) -> [UInt8] {
    table("APIC", le(UInt64(address), 4) + le(1, 4) + structures, revision: 4)
}

private func parse(_ bytes: [UInt8]) -> Result<MADT, ACPITableError> {
    do throws(ACPITableError) { return .success(try MADT(bytes)) } catch { return .failure(error) }
}

final class HostACPITests: XCTestCase {
    /// The tables the hypervisor gives its own guests, read back the way the host reads firmware.
    func testTheGuestTablesReadBackAsFirmware() throws {
        for vcpus in [1, 2, 4] {
            var memory = FakeMemory()
            let block = ACPITables.build(vcpus: vcpus, apic: true)
            memory.place(block, at: ACPITables.base)
            let found = try XCTUnwrap(ACPIRootPointer.scan(block, base: ACPITables.base))
            XCTAssertEqual(found.address, ACPITables.rsdpAddress)
            XCTAssertEqual(found.pointer.rootTable.address, ACPITables.xsdtAddress)
            let m = try MADT.find(root: found.pointer, read: memory.read)
            XCTAssertEqual(m.enabledProcessors.map(\.apicID), (0..<vcpus).map { UInt32($0) })
            XCTAssertEqual(m.localAPICAddress, 0xFEE0_0000)
            XCTAssertTrue(m.pcatCompatible)
            // And through the RSDT alone (a revision-0 copy of the root pointer, Multiboot2 tag 14).
            let v1 = try ACPIRootPointer(Array(block[0..<20]))
            XCTAssertEqual(v1.revision, 2)
            XCTAssertNil(v1.xsdtAddress)
            XCTAssertEqual(try MADT.find(root: v1, read: memory.read), m)
        }
    }

    func testProcessorsOfBothKindsDisabledAndOnlineCapable() throws {
        let m = try MADT(madt(localAPIC(uid: 0, id: 0) + localAPIC(uid: 1, id: 2, flags: 0) + localAPIC(uid: 2, id: 4, flags: 2)
                              + [1, 12, 9, 0] + le(0xFEC0_0000, 4) + le(0, 4)      // an I/O APIC, stepped over
                              + x2APIC(uid: 7, id: 300) + [0x7F, 2]                 // an unknown 2-byte structure
                              + [5, 12, 0, 0] + le(0xF_FEE0_0000, 8)))
        XCTAssertEqual(m.processors, [
            MADTProcessor(kind: .localAPIC, processorUID: 0, apicID: 0, enabled: true),
            MADTProcessor(kind: .localAPIC, processorUID: 1, apicID: 2, enabled: false),
            MADTProcessor(kind: .localAPIC, processorUID: 2, apicID: 4, enabled: false, onlineCapable: true),
            MADTProcessor(kind: .x2APIC, processorUID: 7, apicID: 300, enabled: true),
        ])
        XCTAssertEqual(m.enabledProcessors.map(\.apicID), [0, 300])
        XCTAssertEqual(m.localAPICAddress, 0xF_FEE0_0000, "the override replaces the 32-bit address")
    }

    func testMalformedStructuresAreRefused() {
        let good = localAPIC(uid: 0, id: 0)
        XCTAssertEqual(parse(madt(good + [0, 0])), .failure(.badEntry(offset: 52, type: 0, length: 0)), "length 0 would never advance")
        XCTAssertEqual(parse(madt(good + [0x7F, 1])), .failure(.badEntry(offset: 52, type: 0x7F, length: 1)))
        XCTAssertEqual(parse(madt(good + [0, 6, 1, 1, 1, 0])), .failure(.badEntry(offset: 52, type: 0, length: 6)), "type 0 needs 8")
        XCTAssertEqual(parse(madt(good + Array(x2APIC(uid: 1, id: 1)[0..<12]))),
                       .failure(.badEntry(offset: 52, type: 9, length: 16)), "reaches past the table")
        XCTAssertEqual(parse(madt(good + [9])), .failure(.badEntry(offset: 52, type: 9, length: 0)), "a lone type byte")
        XCTAssertEqual(parse(madt(good + [5, 8, 0, 0, 0, 0, 0, 0])), .failure(.badEntry(offset: 52, type: 5, length: 8)))
        XCTAssertEqual(parse(madt(good + localAPIC(uid: 1, id: 0))), .failure(.duplicateAPICID(0)))
        XCTAssertEqual(parse(madt(good + x2APIC(uid: 1, id: 0))), .failure(.duplicateAPICID(0)))
        XCTAssertNoThrow(try MADT(madt(good + localAPIC(uid: 1, id: 0, flags: 0))), "a disabled duplicate starts nothing")
    }

    func testHeadersLengthsAndChecksums() {
        var bad = madt(localAPIC(uid: 0, id: 0))
        bad[44 + 3] ^= 1
        XCTAssertEqual(parse(bad), .failure(.badChecksum(signature: ACPITableHeader.madt)))
        XCTAssertEqual(parse(table("FACP", [])), .failure(.wrongSignature(expected: ACPITableHeader.madt, found: 0x5043_4146)))
        let whole = madt(localAPIC(uid: 0, id: 0))
        XCTAssertEqual(parse(Array(whole[0..<40])), .failure(.truncated(signature: ACPITableHeader.madt, length: 52, available: 40)))
        XCTAssertEqual(parse(Array(whole[0..<20])), .failure(.truncated(signature: 0, length: 36, available: 20)))
        var short = table("APIC", [0, 0, 0, 0])        // 40 bytes: no Flags field
        XCTAssertEqual(parse(short), .failure(.badLength(signature: ACPITableHeader.madt, length: 40)))
        short[4] = 10                                  // Length under the header's own 36
        short[9] = 0
        short[9] = ACPITables.checksum(short[0..<10])
        XCTAssertEqual(parse(short), .failure(.badLength(signature: ACPITableHeader.madt, length: 10)))
    }

    func testRootPointers() throws {
        XCTAssertEqual(try ACPIRootPointer(rsdp(rsdt: 0x1000)).rootTable.address, 0x1000)
        XCTAssertEqual(try ACPIRootPointer(rsdp(rsdt: 0x1000, xsdt: 0x2000)).rootTable.address, 0x2000)
        var bad = rsdp(rsdt: 0x1000)
        bad[16] ^= 1
        XCTAssertThrowsError(try ACPIRootPointer(bad)) { XCTAssertEqual($0 as? ACPITableError, .badChecksum(signature: 0)) }
        var badExtended = rsdp(rsdt: 0x1000, xsdt: 0x2000)
        badExtended[24] ^= 1
        XCTAssertThrowsError(try ACPIRootPointer(badExtended)) { XCTAssertEqual($0 as? ACPITableError, .badChecksum(signature: 0)) }
        // Fewer than 36 bytes of a revision-2 pointer: its ACPI 1.0 part, the RSDT.
        XCTAssertEqual(try ACPIRootPointer(Array(rsdp(rsdt: 0x1000, xsdt: 0x2000)[0..<30])).rootTable.address, 0x1000)
        var shortLength = rsdp(rsdt: 0x1000, xsdt: 0x2000)
        shortLength[20] = 20
        XCTAssertThrowsError(try ACPIRootPointer(shortLength)) { XCTAssertEqual($0 as? ACPITableError, .badRootPointer) }
        var hugeLength = rsdp(rsdt: 0x1000, xsdt: 0x2000)
        hugeLength[23] = 0x80
        XCTAssertThrowsError(try ACPIRootPointer(hugeLength)) { XCTAssertEqual($0 as? ACPITableError, .badRootPointer) }
        // The scan skips a signature whose checksum fails and off-boundary copies.
        var area = [UInt8](repeating: 0, count: 256)
        area.replaceSubrange(8..<28, with: rsdp(rsdt: 0x3000))
        area.replaceSubrange(32..<52, with: bad)
        area.replaceSubrange(64..<84, with: rsdp(rsdt: 0x4000))
        let found = try XCTUnwrap(ACPIRootPointer.scan(area, base: 0xE0000))
        XCTAssertEqual(found.address, 0xE0040)
        XCTAssertEqual(found.pointer.rsdtAddress, 0x4000)
        XCTAssertNil(ACPIRootPointer.scan(Array(area[0..<64]), base: 0))
        // A signature in the last 16 bytes: too short for the 20-byte structure, not read past the end.
        XCTAssertNil(ACPIRootPointer.scan([UInt8](repeating: 0, count: 240) + Array("RSD PTR ".utf8) + [0, 0, 0, 0, 0, 0, 0, 0], base: 0))
    }

    func testFollowingTheRootTable() throws {
        var memory = FakeMemory()
        let m = madt(localAPIC(uid: 0, id: 0) + localAPIC(uid: 1, id: 1))
        memory.place(table("FACP", [UInt8](repeating: 0, count: 8)), at: 0x5000)
        memory.place(m, at: 0x6000)
        // An entry out of reach and one with a broken header are passed over; the MADT is found.
        memory.place(table("XSDT", le(0x9_0000_0000, 8) + le(0x5000, 8) + le(0x6000, 8)), at: 0x2000)
        memory.place(table("RSDT", le(0x7000, 4) + le(0x6000, 4)), at: 0x1000)
        memory.place([1, 2, 3], at: 0x7000)
        let viaXSDT = try MADT.find(root: try ACPIRootPointer(rsdp(rsdt: 0x1000, xsdt: 0x2000)), read: memory.read)
        XCTAssertEqual(viaXSDT.enabledProcessors.count, 2)
        XCTAssertEqual(try MADT.find(root: try ACPIRootPointer(rsdp(rsdt: 0x1000)), read: memory.read), viaXSDT)

        func findError(_ memory: FakeMemory, rsdt: UInt32 = 0x1000) -> ACPITableError? {
            do throws(ACPITableError) { _ = try MADT.find(root: try ACPIRootPointer(rsdp(rsdt: rsdt)), read: memory.read); return nil }
            catch { return error }
        }
        var none = FakeMemory()
        none.place(table("RSDT", le(0x5000, 4)), at: 0x1000)
        none.place(table("FACP", []), at: 0x5000)
        XCTAssertEqual(findError(none), .noMADT)
        XCTAssertEqual(findError(none, rsdt: 0x8000), .unreadable(address: 0x8000))
        var odd = FakeMemory()
        odd.place(table("RSDT", [0, 0, 0x60, 0, 0, 0]), at: 0x1000)
        XCTAssertEqual(findError(odd), .badRootTableBody(signature: ACPITableHeader.rsdt, length: 42))
        var wrongRoot = FakeMemory()
        wrongRoot.place(table("XSDT", le(0x6000, 4)), at: 0x1000)
        XCTAssertEqual(findError(wrongRoot), .wrongSignature(expected: ACPITableHeader.rsdt, found: ACPITableHeader.xsdt))
        // A MADT whose Length claims 1 MiB is not read at all.
        var huge = FakeMemory()
        huge.place(table("RSDT", le(0x6000, 4)), at: 0x1000)
        var big = m
        big[6] = 0x10
        huge.place(big, at: 0x6000)
        XCTAssertEqual(findError(huge), .badLength(signature: ACPITableHeader.madt, length: UInt32(m.count) | 0x10_0000))
        // A MADT cut off by the end of readable memory.
        var cut = FakeMemory()
        cut.place(table("RSDT", le(0x6000, 4)), at: 0x1000)
        cut.place(Array(m[0..<44]), at: 0x6000)
        XCTAssertEqual(findError(cut), .unreadable(address: 0x6000))
    }

    /// Every single-byte change and every truncation of a real MADT is either parsed or refused
    /// with an error: nothing traps (an out-of-bounds read would).
    func testMutatedTablesNeverTrap() {
        let base = madt(localAPIC(uid: 0, id: 0) + x2APIC(uid: 1, id: 1) + [5, 12, 0, 0] + le(0xFEE0_0000, 8) + [1, 12] + [UInt8](repeating: 0, count: 10))
        for cut in 0...base.count { _ = parse(Array(base[0..<cut])) }
        for i in 0..<base.count {
            for value: UInt8 in [0, 1, 2, 7, 8, 9, 0x0F, 0x10, 0x7F, 0x80, 0xFF] {
                var t = base
                t[i] = value
                t[9] = 0
                t[9] = ACPITables.checksum(t[...])    // so the structures, not the checksum, are tested
                _ = parse(t)
            }
        }
    }
}
