// The 4 KiB MSR bitmap page (SDM Vol. 3C §25.6.9); MSRs outside both ranges always exit (§26.1.3).

/// One 4 KiB page: read-low (MSRs 0–0x1FFF) at byte 0, read-high (0xC0000000–0xC0001FFF) at 1024,
/// write-low at 2048, write-high at 3072. A set bit makes RDMSR/WRMSR of that MSR exit.
/// The pointer is not owned; operations write through it.
public struct MSRBitmap {
    public var page: UnsafeMutableRawPointer

    public static let pageSize = 4096
    public static let readLowOffset = 0
    public static let readHighOffset = 1024
    public static let writeLowOffset = 2048
    public static let writeHighOffset = 3072

    @inline(__always) public init(page: UnsafeMutableRawPointer) { self.page = page }

    /// Bit location for reading (`write == false`) or writing `msr`; nil if the MSR is in
    /// neither range (the access always exits).
    @inline(__always)
    public static func location(msr: UInt32, write: Bool) -> (byteOffset: Int, bitMask: UInt8)? {
        let base: Int
        if msr <= 0x1FFF {
            base = write ? writeLowOffset : readLowOffset
        } else if msr >= 0xC000_0000 && msr <= 0xC000_1FFF {
            base = write ? writeHighOffset : readHighOffset
        } else {
            return nil
        }
        let n = Int(msr & 0x1FFF)
        return (base + (n >> 3), UInt8(1) << UInt8(n & 7))
    }

    /// Whether the access exits (true for MSRs outside both ranges).
    @inline(__always)
    public func isExiting(msr: UInt32, write: Bool) -> Bool {
        guard let l = Self.location(msr: msr, write: write) else { return true }
        return page.load(fromByteOffset: l.byteOffset, as: UInt8.self) & l.bitMask != 0
    }

    @inline(__always)
    func update(msr: UInt32, write: Bool, set: Bool) {
        guard let l = Self.location(msr: msr, write: write) else { return }
        let old = page.load(fromByteOffset: l.byteOffset, as: UInt8.self)
        page.storeBytes(of: set ? old | l.bitMask : old & ~l.bitMask, toByteOffset: l.byteOffset, as: UInt8.self)
    }

    /// Makes reads and/or writes of `msr` exit (no-op for MSRs outside both ranges: those always exit).
    @inline(__always)
    public func setExiting(msr: UInt32, read: Bool = true, write: Bool = true) {
        if read { update(msr: msr, write: false, set: true) }
        if write { update(msr: msr, write: true, set: true) }
    }

    /// Lets reads and/or writes of `msr` pass through to the hardware MSR.
    @inline(__always)
    public func clearExiting(msr: UInt32, read: Bool = true, write: Bool = true) {
        if read { update(msr: msr, write: false, set: false) }
        if write { update(msr: msr, write: true, set: false) }
    }

    /// Every access exits.
    public func setAll() { page.initializeMemory(as: UInt8.self, repeating: 0xFF, count: Self.pageSize) }
    /// No access to an in-range MSR exits.
    public func clearAll() { page.initializeMemory(as: UInt8.self, repeating: 0, count: Self.pageSize) }
}
