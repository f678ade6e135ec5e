import XCTest
import Foundation

/// ACPICA's disassembler (`iasl -d`, Debian's acpica-tools, installed by tools/deps.sh) for the
/// ACPI table tests: each table's bytes in a scratch folder, decompiled to its .dsl text.
enum IASL {
    static let path = "/usr/bin/iasl"

    /// Skips the test without iasl, and fails it in CI, where tools/deps.sh must have installed it.
    static func requireInstalled() throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("iasl missing: tools/deps.sh installs acpica-tools") }
            throw XCTSkip("iasl (acpica-tools) not installed")
        }
    }

    struct Result {
        let status: Int32
        let output: String
        let dsl: String
    }

    /// `iasl -d NAME.dat` on `table`: its exit status, what it printed, and NAME.dsl.
    static func decompile(_ table: [UInt8], name: String) throws -> Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-iasl-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("\(name).dat")
        try Data(table).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["-d", file.path]
        p.currentDirectoryURL = dir
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let dsl = (try? String(contentsOf: dir.appendingPathComponent("\(name).dsl"), encoding: .utf8)) ?? ""
        return Result(status: p.terminationStatus, output: output, dsl: dsl)
    }
}
