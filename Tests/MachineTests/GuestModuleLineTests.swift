import Foundation
import XCTest
import Machine

final class GuestModuleLineTests: XCTestCase {
    func parse(_ line: String) throws -> GuestModuleLine { try GuestModuleLine(parsing: line[...]) }

    func testDefaultsAndEveryKey() throws {
        let plain = try parse("hello")
        XCTAssertEqual(plain.name, "hello")
        XCTAssertEqual(plain.options.memoryMiB, 4)
        XCTAssertEqual(plain.options.expect, "shutdown")
        XCTAssertEqual(plain.options.vcpus, 1)
        XCTAssertNil(plain.options.shadowPaging)
        XCTAssertEqual(plain.options.onReboot, .restart)
        XCTAssertEqual(try parse("g on_reboot=stop").options.onReboot, .stop)
        let full = try parse("/boot/guests/linux.bin mode=protected mem=255 budget=40 disk=16 expect=poweroff input=serial "
                             + "acpi=off apic=on apicv=off vcpus=4 paging=shadow net=on break=host-tr baseline=yes -- console=ttyS0 quiet")
        XCTAssertEqual(full.name, "linux", "the path's last component, without .bin")
        XCTAssertEqual(full.options.mode, .protected)
        XCTAssertEqual(full.options.memoryMiB, 256, "rounded up to 2 MiB")
        XCTAssertEqual(full.options.budgetMillions, 40)
        XCTAssertEqual(full.options.scratchDiskMiB, 16)
        XCTAssertEqual(full.options.expect, "poweroff")
        XCTAssertEqual(full.options.input, .serial)
        XCTAssertFalse(full.options.acpi)
        XCTAssertTrue(full.options.apic)
        XCTAssertFalse(full.options.apicVirtualization)
        XCTAssertEqual(full.options.vcpus, 4)
        XCTAssertEqual(full.options.shadowPaging, true)
        XCTAssertTrue(full.options.net)
        XCTAssertTrue(full.options.pci, "net=on implies pci=on")
        XCTAssertEqual(full.options.breakState, "host-tr")
        XCTAssertTrue(full.options.baselineExitPath)
        XCTAssertEqual(full.kernelCommandLine, "console=ttyS0 quiet")
        XCTAssertTrue(try parse("smp vcpus=2").options.apic, "several vCPUs need the local APICs")
        XCTAssertEqual(try parse("h disk=host:p2").options.hostDisk, .partition(2))
    }

    func testBadValuesAndUnknownKeysListEveryKey() {
        for word in ["vcpus=99", "vcpus=0", "apic=maybe", "pci=yes", "input=foo", "mem=100000", "mem=1", "budget=0",
                     "mode=vm86", "disk=2000", "paging=nested", "on_reboot=halt"] {
            XCTAssertThrowsError(try parse("g \(word)")) { error in
                XCTAssertEqual(error as? GuestModuleLine.ParseError, .badValue(word[...]), word)
            }
        }
        for word in ["memroy=16", "verbose", "=on", "VCPUS=2"] {
            XCTAssertThrowsError(try parse("g \(word)")) { error in
                XCTAssertEqual(error as? GuestModuleLine.ParseError, .unknownArgument(word[...]), word)
            }
        }
        XCTAssertThrowsError(try parse("")) { XCTAssertEqual($0 as? GuestModuleLine.ParseError, .empty) }
        let text = GuestModuleLine.ParseError.badValue("vcpus=99").description
        for key in GuestOptionKey.allCases {
            XCTAssertTrue(text.contains(" [\(key.name)="), "the usage names \(key.name)")
        }
        XCTAssertTrue(text.hasPrefix("bad module argument 'vcpus=99' (NAME [mode=long|protected|real] "), text)
    }

    func testNormalEndsForMakeRun() {
        for outcome in ["shutdown", "poweroff", "console-quit"] { XCTAssertTrue(GuestOptions.isNormalEnd(outcome), outcome) }
        for outcome in ["triple-fault", "entry-failure", "time-budget", "exit-1", "error", "ept-violation", "reset", "halted"] {
            XCTAssertFalse(GuestOptions.isNormalEnd(outcome), outcome)
        }
    }

    func testEveryKeyIsDocumented() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/guests.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for key in GuestOptionKey.allCases {
            XCTAssertTrue(text.contains("| `\(key.name)` |"), "docs/guests.md's table has no row for \(key.name)")
            XCTAssertEqual(GuestOptionKey(named: "\(key.name)"[...]), key)
        }
        XCTAssertNil(GuestOptionKey(named: "mem "))
        XCTAssertNil(GuestOptionKey(named: "me"))
    }
}
