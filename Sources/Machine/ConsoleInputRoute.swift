// Where the hypervisor's console keys go inside the focused VM: its i8042
// keyboard (set-1 scancodes, or set 2 when the guest turned translation off;
// IRQ 1), its 16550 UART's receive line (IRQ 4), or both. A guest usually reads
// one of them; both is the default, so any guest hears the keys. Chosen per VM
// with the module-line option `input=keyboard|serial|both`.

public enum ConsoleInputRoute: Equatable, Sendable {
    case keyboard, serial, both

    public init?(name: Substring) {
        switch name {
        case "keyboard": self = .keyboard
        case "serial", "uart": self = .serial
        case "both": self = .both
        default: return nil
        }
    }

    public var toKeyboard: Bool { self != .serial }
    public var toSerial: Bool { self != .keyboard }
}

extension VirtualPC {
    /// Whether a key typed now has room on at least one of the routes (a typed
    /// key needs up to 8 keyboard bytes: modifiers, E0 prefixes, make and break;
    /// a character one UART byte; a UART without FIFO holds one byte, so a
    /// terminal sequence such as ESC [ A needs a guest with FIFOs on, as Linux
    /// has). The console reads no more input
    /// while neither has room, so a busy guest slows the typist instead of losing keys;
    /// a route the guest never reads (full) does not hold up the other.
    public func hasRoomForKey(_ route: ConsoleInputRoute) -> Bool {
        (route.toKeyboard && ScancodeQueue.capacity - keyboard.queuedCount >= 8)
            || (route.toSerial && bus.com1.receiveSpace >= 1)
    }

    /// Types `key` on the routes `route` names. Enter arrives from a terminal as CR and
    /// Backspace as DEL: the keyboard gets the Enter and Backspace keys, the UART the bytes.
    public mutating func typeConsoleKey(_ key: ConsoleKey, route: ConsoleInputRoute) {
        if route.toKeyboard {
            if case .character(let byte) = key {
                _ = keyboard.type(ascii: byte)
            } else if let (code, extended) = key.set1 {
                if keyboard.pressKey(scancode: code, extended: extended) {
                    _ = keyboard.releaseKey(scancode: code, extended: extended)
                }
            }
            keyboardEdges()
        }
        if route.toSerial {
            key.terminalBytes { byte in _ = bus.com1.receive(byte) }
            drive(irq: StandardPorts.com1IRQ, bus.com1.irqAsserted)
        }
    }
}
