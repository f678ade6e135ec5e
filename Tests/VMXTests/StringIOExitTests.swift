import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// The ports side of INS/OUTS: what the guest wrote, and what it reads (a counter from `next`).
struct RecordingPorts: StringIOPorts {
    var outputs: [(port: UInt16, size: Int, value: UInt32)] = []
    var inputs: [(port: UInt16, size: Int)] = []
    var next: UInt32 = 0x1122_3340
    mutating func input(port: UInt16, size: Int) -> UInt32 {
        inputs.append((port, size))
        next &+= 1
        return next
    }
    mutating func output(port: UInt16, size: Int, value: UInt32) { outputs.append((port, size, value)) }
}

final class StringIOExitTests: XCTestCase {
    let ram = ShadowTestRAM(size: 0x10_0000)

    /// A flat 32-bit protected-mode guest without paging (CR0.PE|NE), data segments base 0 limit 4 GiB.
    func makeVMCS(rip: UInt64 = 0x7000, length: UInt64 = 2) -> FakeVMCS {
        let vmcs = FakeVMCS(rip: rip, length: length)
        vmcs.setCR0(0x21)
        for (base, limit, rights) in [(VMCSField.guestESBase, VMCSField.guestESLimit, VMCSField.guestESAccessRights),
                                      (.guestSSBase, .guestSSLimit, .guestSSAccessRights),
                                      (.guestDSBase, .guestDSLimit, .guestDSAccessRights),
                                      (.guestFSBase, .guestFSLimit, .guestFSAccessRights)] {
            vmcs.fields[base] = 0
            vmcs.fields[limit] = 0xFFFF_FFFF
            vmcs.fields[rights] = 0xC093         // present, read/write, accessed, 4 KiB granularity, 32-bit
        }
        return vmcs
    }

    /// Instruction information (SDM Vol. 3C Table 28-8): address size 0/1/2 = 16/32/64 bits, segment (OUTS).
    func information(addressSize code: UInt64, segment: UInt64 = 3) -> UInt64 { code << 7 | segment << 15 }

    func run(_ vmcs: FakeVMCS, _ regs: inout GuestRegisters, _ q: IOExitQualification, ports: inout RecordingPorts)
        -> StringIOExit.Outcome {
        StringIOExit.handle(vmcs, &regs, q, memory: ram.memory, ports: &ports)
    }

    func testRepOutsOfEveryWidthReadsDSColonESIUpwards() {
        for size in [1, 2, 4] {
            for i in 0..<16 { ram.memory.store(UInt8(0xA0 + i), gpa: 0x2000 + UInt64(i)) }
            let vmcs = makeVMCS()
            vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1)
            var regs = GuestRegisters()
            regs.rsi = 0x2000
            regs.rcx = 3
            var ports = RecordingPorts()
            let q = IOExitQualification(port: 0x3F8, size: size, isIn: false, isString: true, isRep: true)
            XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
            XCTAssertEqual(ports.outputs.count, 3, "size \(size)")
            for (n, out) in ports.outputs.enumerated() {
                var expected: UInt32 = 0
                for b in 0..<size { expected |= UInt32(0xA0 + n * size + b) << UInt32(8 * b) }
                XCTAssertEqual(out.port, 0x3F8)
                XCTAssertEqual(out.size, size)
                XCTAssertEqual(out.value, expected, "size \(size) element \(n)")
            }
            XCTAssertEqual(regs.rsi, 0x2000 + UInt64(3 * size))
            XCTAssertEqual(regs.rcx, 0)
            XCTAssertEqual(vmcs.written(.guestRIP), 0x7002)
            XCTAssertNil(vmcs.injected)
        }
    }

    func testRepInsOfEveryWidthWritesESColonEDI() {
        for size in [1, 2, 4] {
            let vmcs = makeVMCS()
            vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1, segment: 5)   // ignored: INS is ES
            vmcs.fields[.guestESBase] = 0x1000
            var regs = GuestRegisters()
            regs.rdi = 0x3000
            regs.rcx = 2
            var ports = RecordingPorts()
            let q = IOExitQualification(port: 0x1F0, size: size, isIn: true, isString: true, isRep: true)
            XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
            XCTAssertEqual(ports.inputs.count, 2)
            XCTAssertTrue(ports.inputs.allSatisfy { $0.port == 0x1F0 && $0.size == size })
            let mask: UInt64 = size == 4 ? 0xFFFF_FFFF : (1 << UInt64(8 * size)) - 1
            XCTAssertEqual(ram.get64(0x4000) & mask, 0x1122_3341 & mask, "size \(size)")
            XCTAssertEqual(ram.get64(0x4000 + UInt64(size)) & mask, 0x1122_3342 & mask, "size \(size)")
            XCTAssertEqual(regs.rdi, 0x3000 + UInt64(2 * size))
            XCTAssertEqual(regs.rcx, 0)
            XCTAssertEqual(vmcs.written(.guestRIP), 0x7002)
        }
    }

    func testWithoutREPOneElementAndRCXUntouched() {
        let vmcs = makeVMCS(length: 1)
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1)
        var regs = GuestRegisters()
        regs.rsi = 0x2000
        regs.rcx = 77
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x80, size: 1, isIn: false, isString: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
        XCTAssertEqual(ports.outputs.count, 1)
        XCTAssertEqual(regs.rcx, 77)
        XCTAssertEqual(regs.rsi, 0x2001)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7001)
    }

    func testDirectionFlagMovesDownwards() {
        for i in 0..<8 { ram.memory.store(UInt8(i + 1), gpa: 0x2000 + UInt64(i)) }
        let vmcs = makeVMCS()
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1)
        vmcs.fields[.guestRFLAGS] = 0x2 | RFLAGS.df.rawValue
        var regs = GuestRegisters()
        regs.rsi = 0x2006
        regs.rcx = 3
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x3F8, size: 2, isIn: false, isString: true, isRep: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
        XCTAssertEqual(ports.outputs.map(\.value), [0x0807, 0x0605, 0x0403])
        XCTAssertEqual(regs.rsi, 0x2000)
    }

    func testSixteenBitAddressSizeWrapsSIAndKeepsTheUpperBits() {
        let vmcs = makeVMCS()
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 0)
        vmcs.fields[.guestDSBase] = 0x10000
        vmcs.fields[.guestDSLimit] = 0xFFFF
        ram.memory.store(UInt8(0x5A), gpa: 0x1FFFF)
        ram.memory.store(UInt8(0x6B), gpa: 0x10000)
        var regs = GuestRegisters()
        regs.rsi = 0xDEAD_0000_1234_FFFF
        regs.rcx = 0xAAAA_0002          // CX = 2: only the low 16 bits count
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x3F8, size: 1, isIn: false, isString: true, isRep: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
        XCTAssertEqual(ports.outputs.map(\.value), [0x5A, 0x6B])
        XCTAssertEqual(regs.rsi, 0xDEAD_0000_1234_0001)
        XCTAssertEqual(regs.rcx, 0xAAAA_0000)
    }

    func testThirtyTwoBitAddressSizeZeroExtends() {
        let vmcs = makeVMCS()
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1)
        var regs = GuestRegisters()
        regs.rdi = 0xFFFF_FFFF_0000_5000
        regs.rcx = 1
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x60, size: 1, isIn: true, isString: true, isRep: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
        XCTAssertEqual(ram.memory.load(UInt8.self, gpa: 0x5000), 0x41)
        XCTAssertEqual(regs.rdi, 0x5001)
    }

    func testSegmentOverrideForOUTS() {
        let vmcs = makeVMCS()
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1, segment: 4)   // FS:
        vmcs.fields[.guestFSBase] = 0x8000
        ram.memory.store(UInt8(0x77), gpa: 0x8010)
        var regs = GuestRegisters()
        regs.rsi = 0x10
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0xE9, size: 1, isIn: false, isString: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
        XCTAssertEqual(ports.outputs.map(\.value), [0x77])
    }

    func testUnknownAddressSizeIsRefused() {
        let vmcs = makeVMCS()
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 3)
        var regs = GuestRegisters()
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x3F8, size: 1, isIn: false, isString: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .unsupportedAddressSize)
        XCTAssertTrue(ports.outputs.isEmpty)
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testUnusableSegmentIsGeneralProtectionAndStackSegmentIsStackFault() {
        for (segment, vector) in [(UInt64(3), UInt8(13)), (UInt64(2), UInt8(12))] {
            let vmcs = makeVMCS()
            vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1, segment: segment)
            vmcs.fields[segment == 2 ? .guestSSAccessRights : .guestDSAccessRights] = 1 << 16
            var regs = GuestRegisters()
            var ports = RecordingPorts()
            let q = IOExitQualification(port: 0x3F8, size: 1, isIn: false, isString: true)
            XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
            XCTAssertEqual(vmcs.injected, .hardwareException(vector: vector, hasErrorCode: true))
            XCTAssertEqual(vmcs.injectedErrorCode, 0)
            XCTAssertTrue(ports.outputs.isEmpty)
            XCTAssertNil(vmcs.written(.guestRIP))
        }
    }

    func testPastTheSegmentLimitStopsWithTheDoneElementsShown() {
        let vmcs = makeVMCS()
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1)
        vmcs.fields[.guestDSLimit] = 0x2001
        var regs = GuestRegisters()
        regs.rsi = 0x2000
        regs.rcx = 4
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x3F8, size: 1, isIn: false, isString: true, isRep: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
        XCTAssertEqual(ports.outputs.count, 2)
        XCTAssertEqual(regs.rsi, 0x2002)
        XCTAssertEqual(regs.rcx, 2)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testNotPresentPageIsPageFaultWithCR2() {
        let vmcs = makeVMCS()
        vmcs.setCR0(0x8000_0021)           // paging on, 32-bit tables at CR3 = 0x1000, all not present
        vmcs.fields[.guestCR3] = 0x1000
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1)
        var regs = GuestRegisters()
        regs.rdi = 0x40_0000
        regs.rcx = 8
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x1F0, size: 2, isIn: true, isString: true, isRep: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .resume)
        XCTAssertTrue(ports.inputs.isEmpty)          // translated before the port is touched
        XCTAssertEqual(vmcs.cr2, 0x40_0000)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 14, hasErrorCode: true))
        XCTAssertEqual(vmcs.injectedErrorCode, UInt64(PageFaultErrorCode.write.rawValue))
        XCTAssertEqual(regs.rcx, 8)
    }

    func testAnElementOutsideRAMStopsAsAnEPTViolation() {
        let vmcs = makeVMCS()
        vmcs.fields[.vmExitInstructionInformation] = information(addressSize: 1)
        var regs = GuestRegisters()
        regs.rdi = 0x10_0000 - 2
        regs.rcx = 4
        var ports = RecordingPorts()
        let q = IOExitQualification(port: 0x1F0, size: 2, isIn: true, isString: true, isRep: true)
        XCTAssertEqual(run(vmcs, &regs, q, ports: &ports), .outsideRAM(gpa: 0x10_0000, access: .write))
        XCTAssertEqual(ports.inputs.count, 1)
    }
}
