import XCTest
import Foundation
@testable import Machine

/// The VM's ACPI tables (ACPI 6.0 §5.2): structure, checksums, pointers, the FADT's fixed
/// hardware and the DSDT's \_S5, and a round trip through ACPICA's disassembler (`iasl -d`,
/// Debian's acpica-tools, installed by tools/deps.sh).
final class ACPITablesTests: XCTestCase {
    let block = ACPITables.build()

    func table(at address: UInt64) -> [UInt8] {
        let offset = Int(address - ACPITables.base)
        let length = Int(u32(address + 4))
        return Array(block[offset..<offset + length])
    }
    func u8(_ a: UInt64) -> UInt8 { block[Int(a - ACPITables.base)] }
    func u16(_ a: UInt64) -> UInt16 { UInt16(u8(a)) | UInt16(u8(a + 1)) << 8 }
    func u32(_ a: UInt64) -> UInt32 { UInt32(u16(a)) | UInt32(u16(a + 2)) << 16 }
    func u64(_ a: UInt64) -> UInt64 { UInt64(u32(a)) | UInt64(u32(a + 4)) << 32 }
    func sum(_ bytes: ArraySlice<UInt8>) -> UInt8 { bytes.reduce(0, &+) }
    func signature(_ a: UInt64, _ n: Int = 4) -> String {
        String(decoding: block[Int(a - ACPITables.base)..<Int(a - ACPITables.base) + n], as: UTF8.self)
    }

    func testRSDPFindsTheXSDTAndRSDT() {
        let r = ACPITables.rsdpAddress
        XCTAssertEqual(r & 0xF, 0, "the RSDP is on a 16-byte boundary for the legacy scan")
        XCTAssertEqual(signature(r, 8), "RSD PTR ")
        XCTAssertEqual(sum(block[0..<20]), 0, "RSDP checksum over the first 20 bytes")
        XCTAssertEqual(sum(block[0..<36]), 0, "extended checksum over 36 bytes")
        XCTAssertEqual(u8(r + 15), 2)
        XCTAssertEqual(u64(r + 24), ACPITables.xsdtAddress)
        XCTAssertEqual(UInt64(u32(r + 16)), ACPITables.rsdtAddress)
    }

    func testEveryTableChecksumsAndPointsOn() {
        for address in [ACPITables.rsdtAddress, ACPITables.xsdtAddress, ACPITables.fadtAddress, ACPITables.dsdtAddress] {
            XCTAssertEqual(sum(table(at: address)[...]), 0, "checksum of \(signature(address))")
            XCTAssertEqual(signature(address + 10, 6), "SWIFTV")
        }
        XCTAssertEqual(signature(ACPITables.rsdtAddress), "RSDT")
        XCTAssertEqual(UInt64(u32(ACPITables.rsdtAddress + 36)), ACPITables.fadtAddress)
        XCTAssertEqual(signature(ACPITables.xsdtAddress), "XSDT")
        XCTAssertEqual(u64(ACPITables.xsdtAddress + 36), ACPITables.fadtAddress)
        XCTAssertEqual(signature(ACPITables.facsAddress), "FACS")
        XCTAssertEqual(ACPITables.facsAddress & 63, 0, "the FACS is 64-byte aligned")
    }

    func testFADTDescribesTheFixedHardware() {
        let f = ACPITables.fadtAddress
        XCTAssertEqual(signature(f), "FACP")
        XCTAssertEqual(u32(f + 4), 276)
        XCTAssertEqual(u8(f + 8), 6)
        XCTAssertEqual(UInt64(u32(f + 40)), ACPITables.dsdtAddress)
        XCTAssertEqual(u64(f + 140), ACPITables.dsdtAddress)
        XCTAssertEqual(u64(f + 132), ACPITables.facsAddress)
        XCTAssertEqual(u16(f + 46), 9, "SCI on IRQ 9")
        XCTAssertEqual(u32(f + 48), 0, "no SMI_CMD: ACPI mode from the start")
        XCTAssertEqual(u32(f + 56), 0x600)
        XCTAssertEqual(u32(f + 64), 0x604)
        XCTAssertEqual(u8(f + 88), 4)
        XCTAssertEqual(u8(f + 89), 2)
        XCTAssertEqual(u32(f + 76), 0, "no PM timer")
        XCTAssertNotEqual(u32(f + 112) & (1 << 10), 0, "RESET_REG_SUP")
        XCTAssertEqual(u8(f + 116), 1, "RESET_REG in system I/O")
        XCTAssertEqual(u64(f + 120), 0xCF9)
        XCTAssertEqual(u8(f + 128), 6)
        XCTAssertEqual(u64(f + 172 + 4), 0x604, "X_PM1a_CNT_BLK")
    }

    func testDSDTHoldsS5() {
        let d = table(at: ACPITables.dsdtAddress)
        XCTAssertEqual(Array(d[36...]), [0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00])
    }

    func testPkgLengthEncodings() {
        XCTAssertEqual(AML.pkgLength(5), [6])
        XCTAssertEqual(AML.pkgLength(62), [0x3F])
        XCTAssertEqual(AML.pkgLength(63), [0x41, 0x04])   // 65 = 0x41: low nibble 1, then 0x04
        XCTAssertEqual(AML.pkgLength(0x1000), [0x83, 0x00, 0x01])   // 0x1003 with its 3 bytes
    }

    /// ACPICA's own disassembler reads every table back without complaint, and the DSDT
    /// decompiles to the \_S5 package.
    func testIaslDecompilesTheTables() throws {
        try IASL.requireInstalled()
        for (name, address) in [("facp", ACPITables.fadtAddress), ("dsdt", ACPITables.dsdtAddress),
                                ("xsdt", ACPITables.xsdtAddress), ("rsdt", ACPITables.rsdtAddress)] {
            let r = try IASL.decompile(table(at: address), name: name)
            XCTAssertEqual(r.status, 0, "iasl -d \(name): \(r.output)")
            let dsl = r.dsl
            XCTAssertFalse(dsl.contains("Invalid"), "iasl found an invalid field in \(name): \(dsl)")
            XCTAssertFalse(dsl.lowercased().contains("incorrect checksum"), "\(name): \(dsl)")
            if name == "dsdt" {
                XCTAssertTrue(dsl.contains("Name (_S5, Package (0x04)"), dsl)
            }
            if name == "facp" {
                XCTAssertTrue(dsl.contains("PM1A Control Block Address : 0000000000000604")
                              || dsl.contains("0000000000000604"), dsl)
            }
        }
    }
}

/// The MADT of the APIC interrupt model (ACPI 6.0 §5.2.12), for 1, 2 and 4 vCPUs, and that
/// `build()` stays the PIC-only machine.
final class MADTTests: XCTestCase {
    struct Tables {
        let block: [UInt8]
        func u8(_ a: UInt64) -> UInt8 { block[Int(a - ACPITables.base)] }
        func u16(_ a: UInt64) -> UInt16 { UInt16(u8(a)) | UInt16(u8(a + 1)) << 8 }
        func u32(_ a: UInt64) -> UInt32 { UInt32(u16(a)) | UInt32(u16(a + 2)) << 16 }
        func u64(_ a: UInt64) -> UInt64 { UInt64(u32(a)) | UInt64(u32(a + 4)) << 32 }
        func table(at a: UInt64) -> [UInt8] {
            let o = Int(a - ACPITables.base)
            return Array(block[o..<o + Int(u32(a + 4))])
        }
        func signature(_ a: UInt64) -> String {
            String(decoding: block[Int(a - ACPITables.base)..<Int(a - ACPITables.base) + 4], as: UTF8.self)
        }
    }

    /// The MADT's interrupt controller structures as (type, bytes).
    func structures(_ madt: [UInt8]) -> [(type: UInt8, bytes: [UInt8])] {
        var result: [(UInt8, [UInt8])] = []
        var o = 44
        while o < madt.count {
            let length = Int(madt[o + 1])
            XCTAssertGreaterThan(length, 1)
            if length < 2 { break }
            result.append((madt[o], Array(madt[o..<o + length])))
            o += length
        }
        XCTAssertEqual(o, madt.count, "structures fill the table exactly")
        return result
    }

    func testBuildWithoutArgumentsHasNoMADT() {
        let t = Tables(block: ACPITables.build())
        XCTAssertEqual(t.block.count, Int(ACPITables.size))
        XCTAssertEqual(t.block, ACPITables.build(vcpus: 1, apic: false))
        XCTAssertEqual(t.u32(ACPITables.rsdtAddress + 4), 40, "RSDT lists only the FADT")
        XCTAssertEqual(t.u32(ACPITables.xsdtAddress + 4), 44, "XSDT lists only the FADT")
    }

    func testMADTForOneTwoAndFourVCPUs() {
        for n in [1, 2, 4] {
            let t = Tables(block: ACPITables.build(vcpus: n, apic: true))
            XCTAssertEqual(UInt64(t.block.count), ACPITables.blockSize(vcpus: n, apic: true))
            // The RSDT and XSDT list the FADT and the MADT, checksums hold.
            for a in [ACPITables.rsdtAddress, ACPITables.xsdtAddress, ACPITables.madtAddress, ACPITables.fadtAddress] {
                XCTAssertEqual(t.table(at: a).reduce(0, &+), 0, "checksum of \(t.signature(a)), \(n) vCPUs")
            }
            XCTAssertEqual(t.u32(ACPITables.rsdtAddress + 4), 44)
            XCTAssertEqual(UInt64(t.u32(ACPITables.rsdtAddress + 40)), ACPITables.madtAddress)
            XCTAssertEqual(t.u32(ACPITables.xsdtAddress + 4), 52)
            XCTAssertEqual(t.u64(ACPITables.xsdtAddress + 44), ACPITables.madtAddress)
            let m = ACPITables.madtAddress
            XCTAssertEqual(t.signature(m), "APIC")
            XCTAssertEqual(t.u8(m + 8), 4, "revision 4 (ACPI 6.0)")
            XCTAssertEqual(t.u32(m + 36), 0xFEE0_0000)
            XCTAssertEqual(t.u32(m + 40), 1, "PCAT_COMPAT")
            let s = structures(t.table(at: m))
            XCTAssertEqual(s.count, n + 4)
            for cpu in 0..<n {
                XCTAssertEqual(s[cpu].type, 0)
                XCTAssertEqual(s[cpu].bytes, [0, 8, UInt8(cpu), UInt8(cpu), 1, 0, 0, 0], "Processor Local APIC \(cpu): enabled")
            }
            XCTAssertEqual(s[n].bytes, [1, 12, UInt8(n), 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0], "I/O APIC ID \(n) at 0xFEC00000, GSI base 0")
            XCTAssertEqual(ACPITables.ioAPICID(vcpus: n), UInt8(n))
            XCTAssertEqual(s[n + 1].bytes, [2, 10, 0, 0, 2, 0, 0, 0, 0x05, 0x00], "ISA IRQ 0 → GSI 2, edge, active high")
            XCTAssertEqual(s[n + 2].bytes, [2, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0x00], "SCI: IRQ 9 → GSI 9, level, active high")
            XCTAssertEqual(s[n + 3].bytes, [4, 6, 0xFF, 0x05, 0x00, 1], "LINT1 is NMI on all processors")
            // The fixed tables are unchanged by the MADT.
            let plain = ACPITables.build()
            XCTAssertEqual(Array(t.block[Int(ACPITables.fadtAddress - ACPITables.base)..<Int(ACPITables.size)]),
                           Array(plain[Int(ACPITables.fadtAddress - ACPITables.base)...]))
        }
    }

    func testVCPUCountIsClamped() {
        XCTAssertEqual(ACPITables.build(vcpus: 0, apic: true), ACPITables.build(vcpus: 1, apic: true))
        XCTAssertEqual(ACPITables.build(vcpus: 1000, apic: true), ACPITables.build(vcpus: ACPITables.maxVCPUs, apic: true))
        XCTAssertLessThanOrEqual(ACPITables.blockSize(vcpus: ACPITables.maxVCPUs, apic: true), 0x2_0000 - 0x100,
                                 "inside the BIOS area")
    }

    /// `iasl -d` reads the MADT back: the processors, the I/O APIC, the overrides and the NMI.
    func testIaslDecompilesTheMADT() throws {
        try IASL.requireInstalled()
        let t = Tables(block: ACPITables.build(vcpus: 4, apic: true))
        for (name, address) in [("apic", ACPITables.madtAddress), ("xsdt", ACPITables.xsdtAddress), ("rsdt", ACPITables.rsdtAddress)] {
            let r = try IASL.decompile(t.table(at: address), name: name)
            XCTAssertEqual(r.status, 0, "iasl -d \(name): \(r.output)")
            let dsl = r.dsl
            XCTAssertFalse(dsl.contains("Invalid"), "\(name): \(dsl)")
            XCTAssertFalse(dsl.lowercased().contains("incorrect checksum"), "\(name): \(dsl)")
            XCTAssertFalse(dsl.contains("**** Unknown"), "\(name): \(dsl)")
            if name == "apic" {
                XCTAssertEqual(dsl.components(separatedBy: "Subtable Type : 00 [Processor Local APIC]").count - 1, 4, dsl)
                XCTAssertTrue(dsl.contains("Subtable Type : 01 [I/O APIC]"), dsl)
                XCTAssertTrue(dsl.contains("Address : FEC00000"), dsl)
                XCTAssertEqual(dsl.components(separatedBy: "Subtable Type : 02 [Interrupt Source Override]").count - 1, 2, dsl)
                XCTAssertTrue(dsl.contains("Subtable Type : 04 [Local APIC NMI]"), dsl)
                XCTAssertTrue(dsl.contains("PC-AT Compatibility : 1"), dsl)
                XCTAssertTrue(dsl.contains("Interrupt Input LINT : 01"), dsl)
            }
            if name == "xsdt" {
                XCTAssertTrue(dsl.contains("ACPI Table Address   1 : 00000000000E0300"), dsl)
            }
        }
    }
}

final class ACPIPowerManagementTests: XCTestCase {
    func testSleepS5ByAWordWriteIsAPowerOff() {
        var pm = ACPIPowerManagement()
        XCTAssertEqual(pm.read(port: 0x604, size: 2) & 1, 1, "SCI_EN reads 1")
        pm.write(port: 0x604, size: 2, value: UInt32(5) << 10 | 1)         // SLP_TYP only: not yet
        XCTAssertFalse(pm.powerOffRequested)
        pm.write(port: 0x604, size: 2, value: UInt32(5) << 10 | 1 << 13 | 1)
        XCTAssertTrue(pm.powerOffRequested)
        XCTAssertEqual(pm.read(port: 0x604, size: 2) & (1 << 13), 0, "SLP_EN is write-only")
    }

    func testOtherSleepTypeIsNotAPowerOff() {
        var pm = ACPIPowerManagement()
        pm.write(port: 0x604, size: 2, value: UInt32(1) << 10 | 1 << 13)
        XCTAssertFalse(pm.powerOffRequested)
        XCTAssertEqual(pm.sleepTypeEntered, 1)
    }

    func testStatusIsWriteOneToClearAndEnableReadsBack() {
        var pm = ACPIPowerManagement()
        pm.write(port: 0x602, size: 2, value: 0x0120)
        XCTAssertEqual(pm.read(port: 0x602, size: 2), 0x0120)
        XCTAssertEqual(pm.read(port: 0x600, size: 4), 0x0120_0000)
        pm.write(port: 0x600, size: 2, value: 0x8000)
        XCTAssertEqual(pm.read(port: 0x600, size: 2), 0)
    }

    func testResetRegister() {
        var pc = VirtualPC<RecordingSink, RecordingSink, ATABlockStorage>(bus: PortBus(com1Sink: RecordingSink(), debugSink: RecordingSink()),
                           clock: GuestClock(tscHz: 1_000_000_000, tscBase: 0))
        XCTAssertNil(pc.powerRequest)
        pc.portOut(port: 0xCF9, size: 1, value: 0x02, tsc: 0)
        XCTAssertNil(pc.powerRequest, "bit 2 starts the reset")
        pc.portOut(port: 0xCF9, size: 1, value: 0x06, tsc: 0)
        XCTAssertEqual(pc.powerRequest, .acpiReset)
        var off = VirtualPC<RecordingSink, RecordingSink, ATABlockStorage>(bus: PortBus(com1Sink: RecordingSink(), debugSink: RecordingSink()),
                            clock: GuestClock(tscHz: 1_000_000_000, tscBase: 0))
        off.portOut(port: 0x604, size: 2, value: 0x3401, tsc: 0)
        XCTAssertEqual(off.powerRequest, .acpiPowerOff)
    }
}
