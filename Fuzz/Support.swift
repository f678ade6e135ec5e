// Shared pieces of the libFuzzer targets (built by Fuzz/build.sh with
// -sanitize=fuzzer,address; never part of `swift build`).
//
// Every target file defines `fuzzOne(_:)` (one input) and `seedImages()` (the
// seed corpus, built with the unit tests' image builders).
// `SWIFTVISOR_FUZZ_SEEDS=DIR ./fuzz-X` writes the seeds into DIR and exits.
import Machine
#if canImport(Glibc)
import Glibc
#endif

/// Reads typed values off the front of a fuzzer input; past its end every read is 0.
struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type = T.self) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: byte()) << (8 * i) }
        return value
    }

    /// The next `count` bytes (fewer at the end of the input).
    mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let n = max(0, min(count, remaining))
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    /// Everything not read yet.
    mutating func rest() -> UnsafeRawBufferPointer { take(remaining) }
}

/// Guest RAM of a few fixed sizes, each allocated at exactly that size once, so
/// AddressSanitizer reports any loader write past the end of RAM.
enum FuzzRAM {
    static let sizes: [Int] = [64 << 10, 1 << 20, (2 << 20) + 4096, 8 << 20, 24 << 20]
    nonisolated(unsafe) static var buffers: [UnsafeMutableRawPointer?] = Array(repeating: nil, count: sizes.count)

    /// RAM of size class `selector % sizes.count`; its old contents are left (loaders must not read RAM they did not write).
    static func memory(_ selector: UInt8) -> GuestMemory {
        let index = Int(selector) % sizes.count
        if buffers[index] == nil {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: sizes[index], alignment: 4096)
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: sizes[index])
            buffers[index] = buffer
        }
        return GuestMemory(base: buffers[index]!, size: UInt64(sizes[index]))
    }
}

/// Whether RAM at `gpa` holds exactly `bytes` (a loader put them there and nothing it
/// wrote afterwards, info structures or other modules, overlapped them).
func ram(_ memory: GuestMemory, at gpa: UInt64, holds bytes: UnsafeRawBufferPointer) -> Bool {
    guard let placed = memory.bytes(gpa: gpa, length: UInt64(bytes.count)) else { return false }
    return bytes.count == 0 || memcmp(placed.baseAddress!, bytes.baseAddress!, bytes.count) == 0
}

/// Whether the half-open ranges overlap (empty ranges overlap nothing).
func overlap(_ a: (UInt64, UInt64), _ b: (UInt64, UInt64)) -> Bool {
    a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1
}

/// A byte string made of the input's bytes, as a command line (no NULs: the loaders stop at one).
func fuzzString(_ bytes: UnsafeRawBufferPointer) -> String {
    String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
}

/// A seed: a parameter prefix (what `fuzzOne` reads first) and an image.
func seed(_ prefix: [UInt8], _ image: [UInt8]) -> [UInt8] { prefix + image }

func writeSeeds(to directory: String) -> Int32 {
    var index = 0
    for (name, bytes) in seedImages() {
        let path = directory + "/seed-" + String(index) + "-" + name
        guard let file = fopen(path, "wb") else {
            fputs("cannot write " + path + "\n", stderr)
            return 1
        }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        index += 1
    }
    print("wrote \(index) seeds to \(directory)")
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    if let directory = getenv("SWIFTVISOR_FUZZ_SEEDS") {
        exit(writeSeeds(to: String(cString: directory)))
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> CInt {
    fuzzOne(FuzzInput(UnsafeRawBufferPointer(start: data, count: count)))
    return 0
}

/// An invariant the fuzzed code broke: a crash libFuzzer records with its input.
func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        fputs("fuzz invariant broken: " + message() + "\n", stderr)
        abort()
    }
}
