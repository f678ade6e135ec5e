// The few ACPI Machine Language encodings the DSDT needs (ACPI 6.0 §20.2): NameOp, PackageOp
// with its PkgLength, and integer data objects. Enough for `Name (_S5, Package () {...})`.

public enum AML {
    public enum DataObject: Equatable, Sendable {
        case zero, one
        case byte(UInt8)
        case word(UInt16)
        case dword(UInt32)

        var encoded: [UInt8] {
            switch self {
            case .zero: return [0x00]                                  // ZeroOp
            case .one: return [0x01]                                   // OneOp
            case .byte(let v): return [0x0A, v]                        // BytePrefix
            case .word(let v): return [0x0B, UInt8(v & 0xFF), UInt8(v >> 8)]   // WordPrefix
            case .dword(let v): return [0x0C] + (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
            }
        }
    }

    /// DefName := NameOp NameString DataRefObject; `segment` is one 4-character NameSeg.
    public static func name(_ segment: StaticString, _ object: [UInt8]) -> [UInt8] {
        precondition(segment.utf8CodeUnitCount == 4, "a NameSeg is 4 characters")
        var out: [UInt8] = [0x08]
        segment.withUTF8Buffer { out += $0 }
        return out + object
    }

    /// DefPackage := PackageOp PkgLength NumElements PackageElementList.
    public static func package(_ elements: [DataObject]) -> [UInt8] {
        var body: [UInt8] = [UInt8(elements.count)]
        for e in elements { body += e.encoded }
        return [0x12] + pkgLength(body.count) + body
    }

    /// PkgLength (§20.2.4): the length of itself plus what follows; 1 byte up to 63, else 2-4 bytes.
    public static func pkgLength(_ contentLength: Int) -> [UInt8] {
        if contentLength + 1 <= 0x3F { return [UInt8(contentLength + 1)] }
        var total = contentLength + 2
        if total <= 0xFFF {
            return [UInt8(0x40 | (total & 0xF)), UInt8(total >> 4)]
        }
        total = contentLength + 3
        if total <= 0xF_FFFF {
            return [UInt8(0x80 | (total & 0xF)), UInt8((total >> 4) & 0xFF), UInt8(total >> 12)]
        }
        total = contentLength + 4
        return [UInt8(0xC0 | (total & 0xF)), UInt8((total >> 4) & 0xFF), UInt8((total >> 12) & 0xFF), UInt8(total >> 20)]
    }
}
