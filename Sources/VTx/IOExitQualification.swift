// Exit qualification for I/O instructions (SDM Vol. 3C §28.2.1, Table 28-5).

public struct IOExitQualification: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Access size in bytes: bits 2:0 + 1 (1, 2 or 4).
    @inline(__always) public var size: Int { Int(rawValue & 7) + 1 }
    /// Bit 3: 1 = IN, 0 = OUT.
    @inline(__always) public var isIn: Bool { rawValue & (1 << 3) != 0 }
    /// Bit 4: string instruction (INS/OUTS).
    @inline(__always) public var isString: Bool { rawValue & (1 << 4) != 0 }
    /// Bit 5: REP prefixed.
    @inline(__always) public var isRep: Bool { rawValue & (1 << 5) != 0 }
    /// Bit 6: operand encoding, 1 = immediate port, 0 = DX.
    @inline(__always) public var isImmediate: Bool { rawValue & (1 << 6) != 0 }
    /// Bits 31:16: port number.
    @inline(__always) public var port: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 16) }

    /// Builds a qualification (handy in tests and the hosted engine).
    public init(port: UInt16, size: Int, isIn: Bool, isString: Bool = false, isRep: Bool = false, isImmediate: Bool = false) {
        var v = UInt64(port) << 16 | UInt64((size - 1) & 7)
        if isIn { v |= 1 << 3 }
        if isString { v |= 1 << 4 }
        if isRep { v |= 1 << 5 }
        if isImmediate { v |= 1 << 6 }
        rawValue = v
    }
}
