// PC keyboard scancodes: the set-1 (XT) codes a guest sees through the 8042's
// translation, the US-layout ASCII → key map, the set-1 → set-2 correspondence
// for a guest that turns translation off, and the keyboard's 64-byte output queue.

/// Set-1 scancodes of the keys the model names, and the prefixes.
public enum Scancode {
    public static let escape: UInt8 = 0x01
    public static let backspace: UInt8 = 0x0E
    public static let tab: UInt8 = 0x0F
    public static let enter: UInt8 = 0x1C
    public static let leftControl: UInt8 = 0x1D
    public static let leftShift: UInt8 = 0x2A
    public static let rightShift: UInt8 = 0x36
    public static let leftAlt: UInt8 = 0x38
    public static let space: UInt8 = 0x39
    public static let capsLock: UInt8 = 0x3A
    /// Extended (E0-prefixed) codes.
    public static let up: UInt8 = 0x48
    public static let left: UInt8 = 0x4B
    public static let right: UInt8 = 0x4D
    public static let down: UInt8 = 0x50
    public static let delete: UInt8 = 0x53
    public static let home: UInt8 = 0x47
    public static let end: UInt8 = 0x4F
    public static let pageUp: UInt8 = 0x49
    public static let pageDown: UInt8 = 0x51
    public static let insert: UInt8 = 0x52
    /// F1–F10 are 0x3B–0x44 in order; F11 and F12 came later (102-key keyboard).
    public static let f1: UInt8 = 0x3B
    public static let f11: UInt8 = 0x57
    public static let f12: UInt8 = 0x58

    /// Set 1: a break code is the make code with bit 7 set.
    public static let breakBit: UInt8 = 0x80
    /// Precedes the code of an extended key (both sets).
    public static let extendedPrefix: UInt8 = 0xE0
    /// Set 2: precedes the make code to form a break code.
    public static let set2BreakPrefix: UInt8 = 0xF0

    /// The key (set-1 make code) and modifiers that type `ascii` on a US
    /// keyboard, or nil for a code no single keystroke produces. Control
    /// characters 0x01–0x1A other than BS, TAB, LF and CR are Ctrl+letter; DEL is
    /// Backspace; LF and CR are both Enter.
    public static func keystroke(ascii: UInt8) -> Keystroke? {
        switch ascii {
        case 0x08, 0x7F: return Keystroke(backspace)
        case 0x09: return Keystroke(tab)
        case 0x0A, 0x0D: return Keystroke(enter)
        case 0x1B: return Keystroke(escape)
        case 0x01...0x1A:  // Ctrl-A ... Ctrl-Z
            return Keystroke(letter(ascii &+ 0x60), control: true)
        case 0x20: return Keystroke(space)
        case 0x61...0x7A: return Keystroke(letter(ascii))
        case 0x41...0x5A: return Keystroke(letter(ascii &+ 0x20), shift: true)
        case 0x31...0x39: return Keystroke(ascii &- 0x2F)  // '1' = 0x02 ... '9' = 0x0A
        case 0x30: return Keystroke(0x0B)  // '0'
        // The symbols on the digit row.
        case 0x21: return Keystroke(0x02, shift: true)  // !
        case 0x40: return Keystroke(0x03, shift: true)  // @
        case 0x23: return Keystroke(0x04, shift: true)  // #
        case 0x24: return Keystroke(0x05, shift: true)  // $
        case 0x25: return Keystroke(0x06, shift: true)  // %
        case 0x5E: return Keystroke(0x07, shift: true)  // ^
        case 0x26: return Keystroke(0x08, shift: true)  // &
        case 0x2A: return Keystroke(0x09, shift: true)  // *
        case 0x28: return Keystroke(0x0A, shift: true)  // (
        case 0x29: return Keystroke(0x0B, shift: true)  // )
        case 0x2D: return Keystroke(0x0C)  // -
        case 0x5F: return Keystroke(0x0C, shift: true)  // _
        case 0x3D: return Keystroke(0x0D)  // =
        case 0x2B: return Keystroke(0x0D, shift: true)  // +
        case 0x5B: return Keystroke(0x1A)  // [
        case 0x7B: return Keystroke(0x1A, shift: true)  // {
        case 0x5D: return Keystroke(0x1B)  // ]
        case 0x7D: return Keystroke(0x1B, shift: true)  // }
        case 0x3B: return Keystroke(0x27)  // ;
        case 0x3A: return Keystroke(0x27, shift: true)  // :
        case 0x27: return Keystroke(0x28)  // '
        case 0x22: return Keystroke(0x28, shift: true)  // "
        case 0x60: return Keystroke(0x29)  // `
        case 0x7E: return Keystroke(0x29, shift: true)  // ~
        case 0x5C: return Keystroke(0x2B)  // backslash
        case 0x7C: return Keystroke(0x2B, shift: true)  // |
        case 0x2C: return Keystroke(0x33)  // ,
        case 0x3C: return Keystroke(0x33, shift: true)  // <
        case 0x2E: return Keystroke(0x34)  // .
        case 0x3E: return Keystroke(0x34, shift: true)  // >
        case 0x2F: return Keystroke(0x35)  // /
        case 0x3F: return Keystroke(0x35, shift: true)  // ?
        default: return nil  // NUL and bytes ≥ 0x80
        }
    }

    /// The set-1 make code of a lowercase letter 'a'...'z'.
    private static func letter(_ lower: UInt8) -> UInt8 {
        switch lower {
        case 0x61: return 0x1E  // a
        case 0x62: return 0x30  // b
        case 0x63: return 0x2E  // c
        case 0x64: return 0x20  // d
        case 0x65: return 0x12  // e
        case 0x66: return 0x21  // f
        case 0x67: return 0x22  // g
        case 0x68: return 0x23  // h
        case 0x69: return 0x17  // i
        case 0x6A: return 0x24  // j
        case 0x6B: return 0x25  // k
        case 0x6C: return 0x26  // l
        case 0x6D: return 0x32  // m
        case 0x6E: return 0x31  // n
        case 0x6F: return 0x18  // o
        case 0x70: return 0x19  // p
        case 0x71: return 0x10  // q
        case 0x72: return 0x13  // r
        case 0x73: return 0x1F  // s
        case 0x74: return 0x14  // t
        case 0x75: return 0x16  // u
        case 0x76: return 0x2F  // v
        case 0x77: return 0x11  // w
        case 0x78: return 0x2D  // x
        case 0x79: return 0x15  // y
        default: return 0x2C  // z
        }
    }

    /// The set-2 make code of the key whose set-1 make code is `code & 0x7F`:
    /// the inverse of the 8042's set-2 → set-1 translation. The same mapping
    /// holds for the byte after an E0 prefix. Set 1 has no code 0x00.
    public static func set2(fromSet1 code: UInt8) -> UInt8 {
        switch code & 0x7F {
        // Esc, digit row, Backspace.
        case 0x01: return 0x76
        case 0x02: return 0x16
        case 0x03: return 0x1E
        case 0x04: return 0x26
        case 0x05: return 0x25
        case 0x06: return 0x2E
        case 0x07: return 0x36
        case 0x08: return 0x3D
        case 0x09: return 0x3E
        case 0x0A: return 0x46
        case 0x0B: return 0x45
        case 0x0C: return 0x4E
        case 0x0D: return 0x55
        case 0x0E: return 0x66
        // Tab, Q row, Enter.
        case 0x0F: return 0x0D
        case 0x10: return 0x15
        case 0x11: return 0x1D
        case 0x12: return 0x24
        case 0x13: return 0x2D
        case 0x14: return 0x2C
        case 0x15: return 0x35
        case 0x16: return 0x3C
        case 0x17: return 0x43
        case 0x18: return 0x44
        case 0x19: return 0x4D
        case 0x1A: return 0x54
        case 0x1B: return 0x5B
        case 0x1C: return 0x5A
        // Ctrl, A row.
        case 0x1D: return 0x14
        case 0x1E: return 0x1C
        case 0x1F: return 0x1B
        case 0x20: return 0x23
        case 0x21: return 0x2B
        case 0x22: return 0x34
        case 0x23: return 0x33
        case 0x24: return 0x3B
        case 0x25: return 0x42
        case 0x26: return 0x4B
        case 0x27: return 0x4C
        case 0x28: return 0x52
        case 0x29: return 0x0E
        // Left Shift, Z row, Right Shift, keypad *, Alt, Space, Caps Lock.
        case 0x2A: return 0x12
        case 0x2B: return 0x5D
        case 0x2C: return 0x1A
        case 0x2D: return 0x22
        case 0x2E: return 0x21
        case 0x2F: return 0x2A
        case 0x30: return 0x32
        case 0x31: return 0x31
        case 0x32: return 0x3A
        case 0x33: return 0x41
        case 0x34: return 0x49
        case 0x35: return 0x4A
        case 0x36: return 0x59
        case 0x37: return 0x7C
        case 0x38: return 0x11
        case 0x39: return 0x29
        case 0x3A: return 0x58
        // F1–F10 (F7 is the one set-2 code above 0x7F).
        case 0x3B: return 0x05
        case 0x3C: return 0x06
        case 0x3D: return 0x04
        case 0x3E: return 0x0C
        case 0x3F: return 0x03
        case 0x40: return 0x0B
        case 0x41: return 0x83
        case 0x42: return 0x0A
        case 0x43: return 0x01
        case 0x44: return 0x09
        // Num Lock, Scroll Lock, keypad (and, after E0, the cursor block).
        case 0x45: return 0x77
        case 0x46: return 0x7E
        case 0x47: return 0x6C
        case 0x48: return 0x75
        case 0x49: return 0x7D
        case 0x4A: return 0x7B
        case 0x4B: return 0x6B
        case 0x4C: return 0x73
        case 0x4D: return 0x74
        case 0x4E: return 0x79
        case 0x4F: return 0x69
        case 0x50: return 0x72
        case 0x51: return 0x7A
        case 0x52: return 0x70
        case 0x53: return 0x71
        // SysRq (Alt+Print Screen), the 102nd key, F11, F12.
        case 0x54: return 0x84
        case 0x55: return 0x60
        case 0x56: return 0x61
        case 0x57: return 0x78
        case 0x58: return 0x07
        // The rest of the translation table: rarely used keys (Windows keys
        // after E0, international keys).
        case 0x59: return 0x0F
        case 0x5A: return 0x17
        case 0x5B: return 0x1F
        case 0x5C: return 0x27
        case 0x5D: return 0x2F
        case 0x5E: return 0x37
        case 0x5F: return 0x3F
        case 0x60: return 0x47
        case 0x61: return 0x4F
        case 0x62: return 0x56
        case 0x63: return 0x5E
        case 0x64: return 0x08
        case 0x65: return 0x10
        case 0x66: return 0x18
        case 0x67: return 0x20
        case 0x68: return 0x28
        case 0x69: return 0x30
        case 0x6A: return 0x38
        case 0x6B: return 0x40
        case 0x6C: return 0x48
        case 0x6D: return 0x50
        case 0x6E: return 0x57
        case 0x6F: return 0x6F
        case 0x70: return 0x13
        case 0x71: return 0x19
        case 0x72: return 0x39
        case 0x73: return 0x51
        case 0x74: return 0x53
        case 0x75: return 0x5C
        case 0x76: return 0x5F
        case 0x77: return 0x62
        case 0x78: return 0x63
        case 0x79: return 0x64
        case 0x7A: return 0x65
        case 0x7B: return 0x67
        case 0x7C: return 0x68
        case 0x7D: return 0x6A
        case 0x7E: return 0x6D
        case 0x7F: return 0x6E
        default: return 0x00  // set 1 0x00: no key
        }
    }
}

/// One keystroke: a set-1 make code and the modifiers held around it.
public struct Keystroke: Equatable, Sendable {
    public var scancode: UInt8
    public var shift: Bool
    public var control: Bool

    public init(_ scancode: UInt8, shift: Bool = false, control: Bool = false) {
        self.scancode = scancode
        self.shift = shift
        self.control = control
    }
}

/// A fixed ring of up to 64 bytes between the keyboard and the 8042; never allocates.
public struct ScancodeQueue: Sendable {
    public static var capacity: Int { 64 }

    private var storage = InlineArray<64, UInt8>(repeating: 0)
    private var head = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }
    public var space: Int { Self.capacity - count }

    /// Appends `byte`; false (nothing stored) when full.
    @discardableResult
    public mutating func push(_ byte: UInt8) -> Bool {
        if count >= Self.capacity { return false }
        storage[(head + count) & (Self.capacity - 1)] = byte
        count += 1
        return true
    }

    /// Puts `byte` ahead of everything queued. When full, the newest byte is
    /// evicted to make room; returns whether that happened.
    @discardableResult
    public mutating func pushFront(_ byte: UInt8) -> Bool {
        var evicted = false
        if count >= Self.capacity {
            count -= 1
            evicted = true
        }
        head = (head + Self.capacity - 1) & (Self.capacity - 1)
        storage[head] = byte
        count += 1
        return evicted
    }

    public mutating func pop() -> UInt8? {
        if count == 0 { return nil }
        let byte = storage[head]
        head = (head + 1) & (Self.capacity - 1)
        count -= 1
        return byte
    }

    public mutating func removeAll() {
        head = 0
        count = 0
    }
}
