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
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/iasl") else { throw XCTSkip("iasl not installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-mcfg-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("mcfg.dat")
        try Data(PCIMCFGTable.build(ecamBase: 0xB000_0000, endBus: 3)).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/iasl")
        p.arguments = ["-d", file.path]
        p.currentDirectoryURL = dir
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, output)
        let dsl = try String(contentsOf: dir.appendingPathComponent("mcfg.dsl"), encoding: .utf8)
        XCTAssertFalse(dsl.lowercased().contains("incorrect checksum"), dsl)
        XCTAssertFalse(dsl.contains("Invalid"), dsl)
        XCTAssertTrue(dsl.contains("Base Address : 00000000B0000000"), dsl)
        XCTAssertTrue(dsl.contains("End Bus Number : 03"), dsl)
    }
}
