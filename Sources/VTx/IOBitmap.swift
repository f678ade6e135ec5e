// I/O bitmaps A and B (SDM Vol. 3C §25.6.4) and when an I/O access exits (§26.1.3).

/// Which of the two 4 KiB I/O bitmaps a port lives in.
public enum IOBitmapHalf: UInt8, Sendable {
    /// Ports 0x0000–0x7FFF.
    case a = 0
    /// Ports 0x8000–0xFFFF.
    case b = 1
}

/// Two 4 KiB pages (bitmap A and B), one bit per port; a set bit makes the access exit.
/// The pointers are not owned; operations write through them.
public struct IOBitmap {
    public var a: UnsafeMutableRawPointer
    public var b: UnsafeMutableRawPointer

    public static let pageSize = 4096

    @inline(__always)
    public init(a: UnsafeMutableRawPointer, b: UnsafeMutableRawPointer) { self.a = a; self.b = b }

    /// Bit location of a port: bitmap A holds 0x0000–0x7FFF, B holds 0x8000–0xFFFF.
    @inline(__always)
    public static func location(port: UInt16) -> (bitmap: IOBitmapHalf, byteOffset: Int, bitMask: UInt8) {
        let p = Int(port)
        return (p < 0x8000 ? .a : .b, (p & 0x7FFF) >> 3, UInt8(1) << UInt8(p & 7))
    }

    /// Whether an access of `size` bytes at `port` exits, given the per-port bit lookup `isSet`:
    /// it exits if any byte's bit is set or the access wraps past 0xFFFF (SDM Vol. 3C §26.1.3).
    @inline(__always)
    public static func accessExits(port: UInt16, size: Int, isSet: (UInt16) -> Bool) -> Bool {
        if Int(port) + size > 0x10000 { return true }
        var i = 0
        while i < size {
            if isSet(port &+ UInt16(truncatingIfNeeded: i)) { return true }
            i += 1
        }
        return false
    }

    @inline(__always)
    func page(_ half: IOBitmapHalf) -> UnsafeMutableRawPointer { half == .a ? a : b }

    /// Whether the bit for `port` is set.
    @inline(__always)
    public func isExiting(port: UInt16) -> Bool {
        let l = Self.location(port: port)
        return page(l.bitmap).load(fromByteOffset: l.byteOffset, as: UInt8.self) & l.bitMask != 0
    }

    /// Whether an access of `size` bytes at `port` exits.
    @inline(__always)
    public func exits(port: UInt16, size: Int) -> Bool {
        Self.accessExits(port: port, size: size) { isExiting(port: $0) }
    }

    @inline(__always)
    public func setExiting(port: UInt16) {
        let l = Self.location(port: port)
        let p = page(l.bitmap)
        p.storeBytes(of: p.load(fromByteOffset: l.byteOffset, as: UInt8.self) | l.bitMask,
                     toByteOffset: l.byteOffset, as: UInt8.self)
    }

    @inline(__always)
    public func clearExiting(port: UInt16) {
        let l = Self.location(port: port)
        let p = page(l.bitmap)
        p.storeBytes(of: p.load(fromByteOffset: l.byteOffset, as: UInt8.self) & ~l.bitMask,
                     toByteOffset: l.byteOffset, as: UInt8.self)
    }

    /// Sets (or clears) the bits of `count` consecutive ports starting at `first` (stops at 0xFFFF).
    public func setExiting(ports first: UInt16, count: Int, exiting: Bool = true) {
        var i = 0
        while i < count && Int(first) + i <= 0xFFFF {
            let port = first &+ UInt16(truncatingIfNeeded: i)
            if exiting { setExiting(port: port) } else { clearExiting(port: port) }
            i += 1
        }
    }

    /// Every port exits.
    public func setAll() {
        a.initializeMemory(as: UInt8.self, repeating: 0xFF, count: Self.pageSize)
        b.initializeMemory(as: UInt8.self, repeating: 0xFF, count: Self.pageSize)
    }

    /// No port exits.
    public func clearAll() {
        a.initializeMemory(as: UInt8.self, repeating: 0, count: Self.pageSize)
        b.initializeMemory(as: UInt8.self, repeating: 0, count: Self.pageSize)
    }
}
