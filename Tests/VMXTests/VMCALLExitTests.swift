import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// VMCALL against a fake VMCS: the result in RAX and RIP past the instruction; console output read
/// from guest memory; `shutdown` as the outcome; a user-mode VMCALL is #UD and changes nothing else.
final class VMCALLExitTests: XCTestCase {
    struct Console: HypercallConsole {
        var written: [UInt8] = []
        mutating func write(_ bytes: UnsafeRawBufferPointer) { written += bytes }
        mutating func testResult(number: UInt64, passed: Bool, name: UnsafeRawBufferPointer) {}
    }

    let ram = UnsafeMutableRawPointer.allocate(byteCount: 0x10000, alignment: 4096)
    var memory: GuestMemory { GuestMemory(base: ram, size: 0x10000) }
    override func tearDown() { ram.deallocate() }

    func longModeVMCS() -> FakeVMCS {
        let vmcs = FakeVMCS(rip: 0x8000, length: 3)
        vmcs.fields[.guestCSAccessRights] = 1 << 13            // CS.L: 64-bit code
        return vmcs
    }

    func testVersionInRAXAndRIPAdvanced() {
        let vmcs = longModeVMCS()
        var regs = GuestRegisters()
        regs.rax = 0                                             // version
        var console = Console()
        XCTAssertEqual(VMCALLExit.handle(vmcs, &regs, ia32eModeGuest: true, memory: memory, console: &console), .resume)
        XCTAssertEqual(regs.rax, Hypercall.versionValue)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x8003)
    }

    func testConsoleWriteReadsGuestMemory() {
        let text = Array("hello".utf8)
        ram.advanced(by: 0x2000).copyMemory(from: text, byteCount: text.count)
        let vmcs = longModeVMCS()
        var regs = GuestRegisters()
        regs.rax = 1                                             // consoleWrite(rbx = address, rcx = length)
        regs.rbx = 0x2000
        regs.rcx = UInt64(text.count)
        var console = Console()
        XCTAssertEqual(VMCALLExit.handle(vmcs, &regs, ia32eModeGuest: true, memory: memory, console: &console), .resume)
        XCTAssertEqual(console.written, text)
        // Past the end of RAM: an error in RAX, nothing written, the guest goes on.
        regs.rax = 1
        regs.rbx = 0xFFF0
        regs.rcx = 0x100
        XCTAssertEqual(VMCALLExit.handle(vmcs, &regs, ia32eModeGuest: true, memory: memory, console: &console), .resume)
        XCTAssertNotEqual(regs.rax, 0)
        XCTAssertEqual(console.written, text)
    }

    func testShutdownIsTheOutcome() {
        let vmcs = longModeVMCS()
        var regs = GuestRegisters()
        regs.rax = 3                                             // shutdown(rbx = code)
        regs.rbx = 7
        var console = Console()
        XCTAssertEqual(VMCALLExit.handle(vmcs, &regs, ia32eModeGuest: true, memory: memory, console: &console), .shutdown(code: 7))
    }

    func testUserModeVMCALLIsInvalidOpcodeAndNothingElse() {
        let vmcs = longModeVMCS()
        vmcs.fields[.guestSSAccessRights] = 3 << 5                // CPL 3
        var regs = GuestRegisters()
        regs.rax = 3
        var console = Console()
        XCTAssertEqual(VMCALLExit.handle(vmcs, &regs, ia32eModeGuest: true, memory: memory, console: &console), .resume)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 6, hasErrorCode: false))
        XCTAssertNil(vmcs.written(.guestRIP))
        XCTAssertEqual(regs.rax, 3)
    }
}
