import Machine

// The hypervisor's console for its guests, between VM turns. Everything arrives on
// the host's COM1 receive line (in Bochs: `make run`'s terminal or the test harness;
// on real hardware: a serial terminal) and leaves on COM1:
// - input: bytes are decoded (Machine/ConsoleInputDecoder) into keys for the focused VM,
//   typed on its i8042 keyboard and/or its UART's receive line (module option
//   `input=keyboard|serial|both`), and Ctrl-A commands for the hypervisor:
//   n next VM, s exit statistics now, x stop everything, h help, t terminal mode,
//   Ctrl-A Ctrl-A a literal Ctrl-A;
// - screens, log mode (the default): each guest's VGA text screen (plain guest RAM at
//   0xB8000) is mirrored as "[name] vga NN| text" lines, rate-limited
//   (Machine/VGATextMirror);
// - screens, terminal mode (a terminal announced itself with a Device Attributes
//   reply, as `make run` does on a TTY, or Ctrl-A t): the focused VM's screen is drawn
//   as a screen in the terminal's top 25 rows (Machine/ConsoleScreen), the serial
//   output scrolls below, and the focused VM's console bytes pass through unescaped.
// The focused guest's screen is also copied to the machine's own VGA memory.

enum Console {
    nonisolated(unsafe) private static var decoder = ConsoleInputDecoder()
    nonisolated(unsafe) private static var lastByteTSC: UInt64 = 0
    nonisolated(unsafe) private(set) static var terminalMode = false
    nonisolated(unsafe) private static var screen = ConsoleScreen()
    /// The VM whose screen the terminal shows (nil: redraw on the next turn).
    nonisolated(unsafe) private static var shown: UnsafeMutablePointer<VirtualMachine>? = nil
    /// Ctrl-A x was typed: every VM stops and no further guest starts.
    nonisolated(unsafe) private(set) static var quitRequested = false
    /// Each VM's input route (module option input=).
    nonisolated(unsafe) private static var routes: [(vm: UnsafeMutablePointer<VirtualMachine>, route: ConsoleInputRoute)] = []

    static func register(_ vm: UnsafeMutablePointer<VirtualMachine>, input: ConsoleInputRoute) {
        routes.removeAll { $0.vm == vm }
        routes.append((vm, input))
    }

    private static func route(of vm: UnsafeMutablePointer<VirtualMachine>) -> ConsoleInputRoute {
        routes.first { $0.vm == vm }?.route ?? .both
    }

    /// A byte waits on the host's COM1 (LSR.DR): the idle loop stops waiting for guest timers.
    static var inputWaiting: Bool { inb(Serial.base + 5) & 0x01 != 0 }

    /// Reads what arrived on the host's COM1 (only while the focused VM has room for a key,
    /// so typing ahead waits in the line instead of being lost) and acts on it.
    /// `focused` moves on Ctrl-A n.
    static func poll(_ vms: [UnsafeMutablePointer<VirtualMachine>], focused: inout Int) {
        guard vms.indices.contains(focused) else { return }
        var received = false
        while !quitRequested {
            let vm = vms[focused]
            if vm.pointee.stop == nil && !vm.pointee.pc.hasRoomForKey(route(of: vm)) { break }
            guard let byte = Serial.read() else { break }
            received = true
            decoder.feed(byte) { event in handle(event, vms, &focused) }
        }
        if received {
            lastByteTSC = rdtsc()
        } else if decoder.isMidSequence && rdtsc() &- lastByteTSC > HostTime.tscHz / 20 {
            decoder.timeOut { event in handle(event, vms, &focused) }   // a lone ESC: the Escape key
        }
    }

    private static func handle(_ event: ConsoleEvent, _ vms: [UnsafeMutablePointer<VirtualMachine>], _ focused: inout Int) {
        let vm = vms[focused]
        if case .key = event {} else {
            vm.pointee.pc.bus.com1.sink.output.endPartialLine()   // the console's own lines start afresh
        }
        switch event {
        case .key(let key):
            if vm.pointee.stop == nil {
                vm.pointee.pc.typeConsoleKey(key, route: route(of: vm))
                // A VM halted in HLT with interrupts on wakes for its keyboard or UART interrupt
                // now, not at its next timer (a tickless kernel may sleep for seconds).
                VirtualMachine.wakeHaltedVCPUs(vm)
            }
        case .command(.nextVM):
            var next = focused
            for step in 1...vms.count {
                let i = (focused + step) % vms.count
                if vms[i].pointee.stop == nil { next = i; break }
            }
            if next == focused {
                print("console: \(vm.pointee.name.string) keeps the focus (no other VM is running)")
            } else {
                focused = next
                print("console: keys and screen go to \(vms[next].pointee.name.string)")
                shown = nil
            }
        case .command(.statistics):
            for vm in vms {
                let prefix = "[\(vm.pointee.name.string)] "
                print("\(prefix)exit statistics so far (\(vm.pointee.stop == nil ? "running" : "stopped")):")
                vm.pointee.stats.printTable(prefix: prefix)
            }
        case .command(.quit):
            print("console: Ctrl-A x: stopping every VM")
            quitRequested = true
        case .command(.help):
            printHelp()
        case .command(.toggleTerminal):
            setTerminalMode(!terminalMode, title: vm)
        case .terminalAttached:
            if !terminalMode { setTerminalMode(true, title: vm) }
        case .command(.unknown(let byte)):
            print("console: Ctrl-A \(byte >= 0x21 && byte < 0x7F ? String(decoding: [byte], as: UTF8.self) : hex(byte, digits: 2)) is no command; Ctrl-A h lists them")
        }
    }

    static func printHelp() {
        print("console: keys go to the focused VM (its keyboard and/or serial line). Ctrl-A then:")
        print("console:   n  focus the next VM        s  every VM's exit statistics now")
        print("console:   x  stop all VMs and quit    t  terminal mode (screen) on/off")
        print("console:   h  this help                Ctrl-A  type a Ctrl-A")
    }

    private static func setTerminalMode(_ on: Bool, title vm: UnsafeMutablePointer<VirtualMachine>) {
        terminalMode = on
        if on {
            withTitle(vm) { title in screen.begin(title: title) { Serial.write($0) } }
        } else {
            screen.end { Serial.write($0) }
        }
        shown = nil
        print("console: terminal mode \(on ? "on: the focused VM's screen above, Ctrl-A h for the keys" : "off")")
    }

    private static func withTitle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ body: (UnsafeRawBufferPointer) -> Void) {
        let title = " [\(vm.pointee.name.string)] VGA screen   (Ctrl-A n: next VM, Ctrl-A x: quit, Ctrl-A h: keys)"
        var bytes = Array(title.utf8)
        bytes.withUnsafeBytes { body($0) }
        bytes.removeAll()
    }

    /// The run is over: the terminal scrolls as a whole again.
    static func end() {
        if terminalMode { screen.end { Serial.write($0) } }
    }

    static func afterTurn(_ vm: UnsafeMutablePointer<VirtualMachine>, focused: Bool) {
        let memory = vm.pointee.memory
        setPassThrough(vm, terminalMode && focused && vm.pointee.stop == nil)
        if terminalMode {
            // The focused VM's screen is drawn; the others are seen when focused.
            if focused, let cells = memory.bytes(gpa: VGATextMirror.address, length: UInt64(VGATextMirror.cellBytes)) {
                if shown != vm {
                    shown = vm
                    screen.invalidate()
                    withTitle(vm) { title in screen.setTitle(title) { Serial.write($0) } }
                }
                screen.draw(UnsafeRawBufferPointer(cells)) { Serial.write($0) }
            }
        } else {
            let print = { (row: Int, text: UnsafeRawBufferPointer) in
                Serial.write(UInt8(ascii: "["))
                vm.pointee.name.write()
                printPrefix(row)
                for byte in text { Serial.write(byte) }
                Serial.write(UInt8(ascii: "\n"))
            }
            let now = rdtsc()
            vm.pointee.vga.scan(memory, tsc: now, ticksPerSecond: vm.pointee.pc.clock.tscHz, changed: print)
            if vm.pointee.stop != nil { vm.pointee.vga.flush(tsc: now, changed: print) }
        }
        if focused, let screen = memory.bytes(gpa: VGATextMirror.address, length: UInt64(VGATextMirror.cellBytes)) {
            physicalPointer(VGATextMirror.address).copyMemory(from: screen.baseAddress!, byteCount: screen.count)
        }
    }

    /// In terminal mode the focused VM's console bytes reach the terminal as they are
    /// (its colours show); otherwise control characters are escaped (GuestLinePrinter).
    /// In pass-through the VM's unfinished serial line (a prompt, typed keys echoed) is shown
    /// after every turn, as a terminal on its serial line would show it.
    private static func setPassThrough(_ vm: UnsafeMutablePointer<VirtualMachine>, _ on: Bool) {
        if !on { vm.pointee.pc.bus.com1.sink.output.endPartialLine() }
        vm.pointee.pc.bus.com1.sink.output.passThrough = on
        vm.pointee.pc.bus.debugConsole.sink.output.passThrough = on
        vm.pointee.hypercalls.output.output.passThrough = on
        if on { vm.pointee.pc.bus.com1.sink.flush() }
    }

    /// "[name" was written; add "] vga NN| ".
    private static func printPrefix(_ row: Int) {
        for byte in "] vga ".utf8 { Serial.write(byte) }
        Serial.write(UInt8(ascii: "0") + UInt8(row / 10))
        Serial.write(UInt8(ascii: "0") + UInt8(row % 10))
        Serial.write(UInt8(ascii: "|"))
        Serial.write(UInt8(ascii: " "))
    }
}
