// Self-tests the harness can ask for on the kernel command line (selftest=NAME).

enum SelfTests {
    static func run(_ name: String, frames: inout FrameAllocator) -> Bool {
        switch name {
        case "pagefault": return pageFault()
        case "frames": return frameAllocator(&frames)
        case "hostdisk": return HostDiskSelfTest.run(&frames)
        case "crash":
            // An unexpected exception: the handler must report it and end the run with status 3.
            print("crash test: executing UD2")
            undefined_instruction()
            print("crash test: FAILED (still running)")
            return false
        default:
            print("selftest: unknown test '\(name)'")
            return false
        }
    }

    /// Read an address nothing maps (64 GiB): the #PF handler must report it with
    /// the right CR2 and error code, and the kernel must carry on.
    static func pageFault() -> Bool {
        let address: UInt64 = 0x10_0000_0000
        print("page fault test: reading \(hex(address))")
        let value = recoverable_probe_read(address)
        guard let fault = Exceptions.lastRecoveredFault else {
            print("page fault test: FAILED (no fault, read \(hex(value)))")
            return false
        }
        // Not present (P=0), read (W/R=0), supervisor (U/S=0): error code 0.
        let passed = fault.vector == 14 && fault.address == address && fault.errorCode == 0 && value == ~0
        print("page fault test: \(passed ? "passed" : "FAILED") (vector \(fault.vector), CR2 \(hex(fault.address)), error code \(fault.errorCode))")
        return passed
    }

    /// Frames come back zeroed, aligned as asked, and never inside the kernel image.
    static func frameAllocator(_ frames: inout FrameAllocator) -> Bool {
        let before = frames.freeFrames
        guard let a = frames.allocate(count: 512, alignment: 2 << 20), let b = frames.allocate() else {
            print("frame test: FAILED (out of memory)"); return false
        }
        let aligned = a % (2 << 20) == 0
        let outsideKernel = (a >= kernel_end_address() || a + (2 << 20) <= kernel_start_address())
            && (b >= kernel_end_address() || b < kernel_start_address())
        let zeroed = loadPhysical(a + 4096, as: UInt64.self) == 0
        frames.free(a, count: 512); frames.free(b)
        let passed = aligned && outsideKernel && zeroed && frames.freeFrames == before
        print("frame test: \(passed ? "passed" : "FAILED") (2 MiB block at \(hex(a)), frame at \(hex(b)))")
        return passed
    }
}
