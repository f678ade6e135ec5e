import Machine

// The hypervisor's console for its guests, between VM turns:
// - input: bytes arriving on the host's COM1 are typed on the focused VM's
//   keyboard (i8042, scancode set 1, IRQ 1);
// - screens: each guest's VGA text screen (plain guest RAM at 0xB8000) is
//   mirrored to the console as "[name] vga NN| text" lines when rows change,
//   and the focused guest's screen is copied to the machine's own VGA memory.

enum Console {
    static func deliverInput(to vm: UnsafeMutablePointer<VirtualMachine>) {
        while let byte = Serial.read() {
            vm.pointee.pc.type(ascii: byte == 0x0D ? 0x0A : byte)
        }
    }

    static func afterTurn(_ vm: UnsafeMutablePointer<VirtualMachine>, focused: Bool) {
        let memory = vm.pointee.memory
        vm.pointee.vga.scan(memory) { row, text in
            Serial.write(UInt8(ascii: "["))
            vm.pointee.name.write()
            printPrefix(row)
            for byte in text { Serial.write(byte) }
            Serial.write(UInt8(ascii: "\n"))
        }
        if focused, let screen = memory.bytes(gpa: VGATextMirror.address, length: UInt64(VGATextMirror.cellBytes)) {
            physicalPointer(VGATextMirror.address).copyMemory(from: screen.baseAddress!, byteCount: screen.count)
        }
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
