// The hypervisor's console input: the bytes a terminal sends on the machine's
// serial line (COM1's receive line: in Bochs the test harness or `make run`,
// on real hardware a serial terminal) decoded into keys for the focused VM and
// commands for the hypervisor. Like QEMU's `-nographic`, Ctrl-A is the escape
// key: Ctrl-A n, s, x, h, t are commands; Ctrl-A Ctrl-A types one Ctrl-A.
// Terminal key sequences (ECMA-48 CSI `ESC [ ... final`, and the VT100 SS3
// `ESC O x` of application mode) become arrow, editing and function keys.

/// A key typed on the hypervisor's console.
public enum ConsoleKey: Equatable, Sendable {
    /// One byte as the terminal sent it: printable ASCII, a control character (Enter is CR,
    /// Backspace DEL or BS), or a byte ≥ 0x80 (no key on the PC keyboard, serial line only).
    case character(UInt8)
    case up, down, right, left
    case home, end, insert, delete, pageUp, pageDown
    /// F1 ... F12.
    case function(UInt8)
}

/// A hypervisor command: Ctrl-A followed by a key.
public enum ConsoleCommand: Equatable, Sendable {
    /// Ctrl-A n: the next VM gets the keyboard and the screen.
    case nextVM
    /// Ctrl-A s: every VM's exit statistics, now.
    case statistics
    /// Ctrl-A x: stop every VM and end the hypervisor.
    case quit
    /// Ctrl-A h (or ?): list the keys.
    case help
    /// Ctrl-A t: terminal mode on/off (the focused VM's screen drawn as a screen).
    case toggleTerminal
    /// Ctrl-A and a key that means nothing.
    case unknown(UInt8)
}

public enum ConsoleEvent: Equatable, Sendable {
    case key(ConsoleKey)
    case command(ConsoleCommand)
    /// A terminal answered a Device Attributes request (`ESC [ ? Ps ; ... c`, ECMA-48 DA):
    /// a terminal that draws escape sequences is attached.
    case terminalAttached
}

public enum ConsoleControl {
    /// Ctrl-A, the escape key.
    public static let escapeKey: UInt8 = 0x01
    public static let esc: UInt8 = 0x1B
}

/// Decodes console bytes into events. Pure and allocation-free. A lone ESC can only
/// be told from the start of a sequence by time: call `timeOut` when no byte
/// followed for a while (the Escape key, or a sequence cut short).
public struct ConsoleInputDecoder: Sendable {
    private enum State: Sendable { case ground, escape, csi, ss3, command }

    private var state = State.ground
    /// The bytes of the sequence being decoded (from ESC), to hand over as typed
    /// characters when they turn out not to be a sequence.
    private var pending = InlineArray<16, UInt8>(repeating: 0)
    private var pendingCount = 0

    public init() {}

    /// Whether a sequence is partly decoded (a later `timeOut` would emit it as keys).
    public var isMidSequence: Bool { state != .ground }

    public mutating func feed(_ byte: UInt8, _ emit: (ConsoleEvent) -> Void) {
        switch state {
        case .ground:
            ground(byte, emit)
        case .command:
            state = .ground
            switch byte {
            case ConsoleControl.escapeKey: emit(.key(.character(ConsoleControl.escapeKey)))
            case UInt8(ascii: "n"), UInt8(ascii: "N"): emit(.command(.nextVM))
            case UInt8(ascii: "s"), UInt8(ascii: "S"): emit(.command(.statistics))
            case UInt8(ascii: "x"), UInt8(ascii: "X"): emit(.command(.quit))
            case UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "?"): emit(.command(.help))
            case UInt8(ascii: "t"), UInt8(ascii: "T"): emit(.command(.toggleTerminal))
            default: emit(.command(.unknown(byte)))
            }
        case .escape:
            if byte == UInt8(ascii: "[") {
                append(byte); state = .csi
            } else if byte == UInt8(ascii: "O") {
                append(byte); state = .ss3
            } else {
                // ESC and a key (Alt+key on most terminals): both typed as they are.
                giveUp(emit)
                ground(byte, emit)
            }
        case .ss3:
            append(byte)
            state = .ground
            if let key = Self.cursorKey(final: byte) {
                emit(.key(key))
            } else if byte >= UInt8(ascii: "P"), byte <= UInt8(ascii: "S") {
                emit(.key(.function(byte - UInt8(ascii: "P") + 1)))      // F1-F4
            } else {
                state = .ss3; giveUp(emit)  // not a key: the bytes as typed
            }
            pendingCount = 0
        case .csi:
            switch byte {
            case 0x30...0x3F:  // parameter bytes: digits, ';', '?' and the other private markers
                if pendingCount == pending.count { giveUp(emit); ground(byte, emit) } else { append(byte) }
            case 0x40...0x7E:  // the final byte
                finishCSI(final: byte, emit)
                state = .ground
                pendingCount = 0
            default:  // a control character inside a sequence: it was not one
                giveUp(emit)
                ground(byte, emit)
            }
        }
    }

    /// Nothing followed for a while: a partial sequence was typed keys (a lone ESC is the Escape key).
    public mutating func timeOut(_ emit: (ConsoleEvent) -> Void) {
        if state == .escape || state == .csi || state == .ss3 { giveUp(emit) }
    }

    private mutating func ground(_ byte: UInt8, _ emit: (ConsoleEvent) -> Void) {
        switch byte {
        case ConsoleControl.escapeKey:
            state = .command
        case ConsoleControl.esc:
            pendingCount = 0
            append(byte)
            state = .escape
        default:
            emit(.key(.character(byte)))
        }
    }

    private mutating func append(_ byte: UInt8) {
        if pendingCount < pending.count {
            pending[pendingCount] = byte
            pendingCount += 1
        }
    }

    /// The pending bytes were not a known sequence: each is a typed character.
    private mutating func giveUp(_ emit: (ConsoleEvent) -> Void) {
        for i in 0..<pendingCount { emit(.key(.character(pending[i]))) }
        pendingCount = 0
        state = .ground
    }

    /// `pending` holds ESC [ and the parameter bytes.
    private func finishCSI(final: UInt8, _ emit: (ConsoleEvent) -> Void) {
        let privateMarker = pendingCount > 2 && pending[2] == UInt8(ascii: "?")
        if privateMarker {
            if final == UInt8(ascii: "c") { emit(.terminalAttached) }
            return  // other private sequences (reports) are no keys
        }
        // The first parameter (modifiers after ';' are ignored: Ctrl+Up is Up).
        var first = 0, digits = 0
        var i = 2
        while i < pendingCount, pending[i] >= 0x30, pending[i] <= 0x39, digits < 4 {
            first = first * 10 + Int(pending[i] - 0x30)
            digits += 1
            i += 1
        }
        if let key = Self.cursorKey(final: final) {
            emit(.key(key))
            return
        }
        switch final {
        case UInt8(ascii: "Z"): emit(.key(.character(0x09)))  // Shift+Tab (back tab): Tab
        case UInt8(ascii: "~"):
            switch first {
            case 1, 7: emit(.key(.home))
            case 2: emit(.key(.insert))
            case 3: emit(.key(.delete))
            case 4, 8: emit(.key(.end))
            case 5: emit(.key(.pageUp))
            case 6: emit(.key(.pageDown))
            case 11...15: emit(.key(.function(UInt8(first - 10))))       // F1-F5
            case 17...21: emit(.key(.function(UInt8(first - 11))))       // F6-F10
            case 23, 24: emit(.key(.function(UInt8(first - 12))))        // F11, F12
            default: break  // an unknown key: nothing
            }
        default: break
        }
    }

    /// The arrows, Home and End: the same final byte after SS3 (ESC O) and after CSI (ESC [).
    private static func cursorKey(final: UInt8) -> ConsoleKey? {
        switch final {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return .right
        case UInt8(ascii: "D"): return .left
        case UInt8(ascii: "H"): return .home
        case UInt8(ascii: "F"): return .end
        default: return nil
        }
    }
}

extension ConsoleKey {
    /// The set-1 make code of a key that is no character, and whether it is an E0-prefixed
    /// (extended) key; nil for characters (see `Scancode.keystroke(ascii:)`).
    public var set1: (scancode: UInt8, extended: Bool)? {
        switch self {
        case .character: return nil
        case .up: return (Scancode.up, true)
        case .down: return (Scancode.down, true)
        case .left: return (Scancode.left, true)
        case .right: return (Scancode.right, true)
        case .home: return (Scancode.home, true)
        case .end: return (Scancode.end, true)
        case .insert: return (Scancode.insert, true)
        case .delete: return (Scancode.delete, true)
        case .pageUp: return (Scancode.pageUp, true)
        case .pageDown: return (Scancode.pageDown, true)
        case .function(let n):
            switch n {
            case 1...10: return (Scancode.f1 + n - 1, false)
            case 11: return (Scancode.f11, false)
            case 12: return (Scancode.f12, false)
            default: return nil
            }
        }
    }

    /// The bytes a VT100/xterm-style terminal sends for the key, for a guest reading
    /// its serial line.
    public func terminalBytes(_ emit: (UInt8) -> Void) {
        func csi(_ final: UInt8) { emit(ConsoleControl.esc); emit(UInt8(ascii: "[")); emit(final) }
        func tilde(_ n: Int) {
            emit(ConsoleControl.esc); emit(UInt8(ascii: "["))
            if n >= 10 { emit(UInt8(ascii: "0") + UInt8(n / 10)) }
            emit(UInt8(ascii: "0") + UInt8(n % 10)); emit(UInt8(ascii: "~"))
        }
        switch self {
        case .character(let byte): emit(byte)
        case .up: csi(UInt8(ascii: "A"))
        case .down: csi(UInt8(ascii: "B"))
        case .right: csi(UInt8(ascii: "C"))
        case .left: csi(UInt8(ascii: "D"))
        case .home: csi(UInt8(ascii: "H"))
        case .end: csi(UInt8(ascii: "F"))
        case .insert: tilde(2)
        case .delete: tilde(3)
        case .pageUp: tilde(5)
        case .pageDown: tilde(6)
        case .function(let n):
            switch n {
            case 1...4: emit(ConsoleControl.esc); emit(UInt8(ascii: "O")); emit(UInt8(ascii: "P") + n - 1)
            case 5: tilde(15)
            case 6...10: tilde(Int(n) + 11)
            case 11, 12: tilde(Int(n) + 12)
            default: break
            }
        }
    }
}
