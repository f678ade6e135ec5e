import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// Devices for MMIOExit: reads answer `readValue` (nil: nothing there), writes are recorded;
/// `regions` are the devices (two pages at 0xFEC0_0000, one each at 0xFEE0_0000 and 0x10_0000).
struct RecordingMMIOBus: MMIOBus {
    var reads: [(gpa: UInt64, size: Int)] = []
    var writes: [(gpa: UInt64, size: Int, value: UInt64)] = []
    var readValue: UInt64? = 0x1122_3344_5566_7788
    var answers = true
    var regions: [(base: UInt64, size: UInt64)] = [(0xFEC0_0000, 0x2000), (0xFEE0_0000, 0x1000), (0x10_0000, 0x1000)]
    func mmioRegion(gpa: UInt64) -> UInt64? {
        regions.first { gpa >= $0.base && gpa - $0.base < $0.size }?.base
    }
    mutating func mmioRead(gpa: UInt64, size: Int) -> UInt64? {
        reads.append((gpa, size))
        return answers ? readValue : nil
    }
    mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64) -> Bool {
        writes.append((gpa, size, value))
        return answers
    }
}

final class MMIOExitTests: XCTestCase {
    let ram = ShadowTestRAM(size: 0x10_0000)
    let device: UInt64 = 0xFEC0_0010

    /// The EPT violation of an instruction at 0x7000: 32-bit flat protected mode without paging
    /// (CS.D = 1), or 64-bit mode on identity-mapped 1 GiB pages (PML4 0x1000, PDPT 0x2000).
    func makeVMCS(_ code: [UInt8], longMode: Bool = false) -> FakeVMCS {
        for (i, b) in code.enumerated() { ram.memory.store(b, gpa: 0x7000 + UInt64(i)) }
        let vmcs = FakeVMCS(rip: 0x7000, length: 0)       // EPT violations report no length
        vmcs.fields[.guestPhysicalAddress] = device
        if longMode {
            ram.put64(0x2000 | 0x7, 0x1000)
            ram.put64(0x0 | 0x87, 0x2000)                 // 1 GiB page at 0
            ram.put64(0xC000_0000 | 0x87, 0x2018)         // and the device's
            vmcs.setCR0(0x8000_0031)
            vmcs.setCR4(0x20)                             // PAE
            vmcs.fields[.guestCR3] = 0x1000
            vmcs.fields[.guestIA32EFER] = 0x500           // LME | LMA
            vmcs.fields[.guestCSAccessRights] = 0xA09B    // L = 1
        } else {
            vmcs.setCR0(0x21)
            vmcs.fields[.guestCSAccessRights] = 0xC09B    // D = 1
        }
        return vmcs
    }

    func testAStoreReachesTheDeviceAndRIPMovesPastIt() {
        let vmcs = makeVMCS([0x89, 0x03])                 // mov [ebx], eax
        vmcs.fields[.guestInterruptibilityState] = 1     // blocking by STI ends with this instruction
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_BBBB_CCCC_DDDD
        regs.rbx = device
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.writes.count, 1)
        XCTAssertEqual(bus.writes.first?.gpa, device)
        XCTAssertEqual(bus.writes.first?.size, 4)
        XCTAssertEqual(bus.writes.first?.value, 0xCCCC_DDDD)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7002)
        XCTAssertEqual(vmcs.written(.guestInterruptibilityState), 0)
    }

    func testALoadFillsTheRegisterZeroExtended() {
        let vmcs = makeVMCS([0x8B, 0x0B])                 // mov ecx, [ebx]
        var regs = GuestRegisters()
        regs.rcx = 0xFFFF_FFFF_FFFF_FFFF
        regs.rbx = device
        var bus = RecordingMMIOBus()
        bus.readValue = 0xFEED_BEEF
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.reads.first?.size, 4)
        XCTAssertEqual(regs.rcx, 0xFEED_BEEF)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7002)
    }

    func testSixtyFourBitModeFetchesThroughTheGuestsPagingAndReachesR8AndRSP() {
        let vmcs = makeVMCS([0x4C, 0x8B, 0x03], longMode: true)      // mov r8, [rbx]
        var regs = GuestRegisters()
        regs.rbx = device
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.reads.first?.size, 8)
        XCTAssertEqual(regs.r8, 0x1122_3344_5566_7788)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)

        let store = makeVMCS([0x48, 0x89, 0x23], longMode: true)    // mov [rbx], rsp (RSP is in the VMCS)
        store.fields[.guestRSP] = 0x9_0000
        var bus2 = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(store, &regs, gpa: device, memory: ram.memory, bus: &bus2))
        XCTAssertEqual(bus2.writes.first?.value, 0x9_0000)
        XCTAssertEqual(bus2.writes.first?.size, 8)
    }

    func testDuringEventDeliveryIsRefused() {
        let vmcs = makeVMCS([0x89, 0x03])
        vmcs.fields[.idtVectoringInformation] = UInt64(InterruptionInfo.hardwareException(vector: 14, hasErrorCode: true).rawValue)
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .duringEventDelivery)
        XCTAssertTrue(bus.writes.isEmpty)
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnInstructionTheDecoderDoesNotKnow() {
        let vmcs = makeVMCS([0x0F, 0x0B])                 // ud2
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        guard case .undecodable = MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus) else {
            return XCTFail("expected undecodable")
        }
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnUnmappedRIPIsAFetchFault() {
        let vmcs = makeVMCS([0x89, 0x03])
        vmcs.setCR0(0x8000_0021)                          // 32-bit paging, an empty page directory
        vmcs.fields[.guestCR3] = 0x3000
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .fetchFault)
    }

    func testInstructionCutShortAtTheEndOfRAM() {
        let vmcs = makeVMCS([])
        ram.memory.store(UInt8(0x89), gpa: 0xF_FFFF)       // the ModR/M byte would be past RAM
        vmcs.fields[.guestRIP] = 0xF_FFFF
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .incomplete)
    }

    func testADeviceThatDoesNotAnswer() {
        let vmcs = makeVMCS([0x89, 0x03])
        var regs = GuestRegisters()
        regs.rbx = device
        var bus = RecordingMMIOBus()
        bus.answers = false
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .notDevice)
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    // Accesses that cross a page boundary. The test RAM ends at 0x10_0000, where a device page
    // follows (as a BAR moved to the end of a guest's RAM).
    let afterRAM: UInt64 = 0x10_0000

    /// 64-bit mode with linear 0x4000_0000 on 4 KiB pages: the device page `first`, then `next`.
    func makeDeviceThenVMCS(_ code: [UInt8], first: UInt64 = 0xFEC0_0000, next: UInt64) -> FakeVMCS {
        let vmcs = makeVMCS(code, longMode: true)
        ram.put64(0x3000 | 0x7, 0x2008)                   // PDPT[1] -> PD
        ram.put64(0x4000 | 0x7, 0x3000)                   // PD[0] -> PT
        ram.put64(first | 0x7, 0x4000)
        ram.put64(next | 0x7, 0x4008)
        return vmcs
    }

    func testAnEightByteStoreFromRAMIntoTheDevicePageIsRefused() {
        // mov %rax,0xffffc: 4 bytes of RAM, then 4 of the device; the exit reports the device's first byte.
        let vmcs = makeVMCS([0x48, 0x89, 0x04, 0x25, 0xFC, 0xFF, 0x0F, 0x00], longMode: true)
        ram.put64(0x5555_5555_5555_5555, 0xF_FFF8)
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_BBBB_CCCC_DDDD
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: afterRAM, memory: ram.memory, bus: &bus),
                       .crossesRegionBoundary(linear: 0xF_FFFC, size: 8))
        XCTAssertTrue(bus.writes.isEmpty, "no part of it reaches the device")
        XCTAssertEqual(ram.get64(0xF_FFF8), 0x5555_5555_5555_5555, "nor RAM")
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnEightByteLoadFromRAMIntoTheDevicePageIsRefused() {
        let vmcs = makeVMCS([0x48, 0x8B, 0x0B], longMode: true)     // mov (%rbx),%rcx
        var regs = GuestRegisters()
        regs.rbx = 0xF_FFFC
        regs.rcx = 0x1234
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: afterRAM, memory: ram.memory, bus: &bus),
                       .crossesRegionBoundary(linear: 0xF_FFFC, size: 8))
        XCTAssertTrue(bus.reads.isEmpty)
        XCTAssertEqual(regs.rcx, 0x1234)
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnAccessWhollyInsideTheDevicePageIsEmulated() {
        // The page's last 8 bytes, and an access at its first byte: as before.
        let vmcs = makeVMCS([0x48, 0x89, 0x03], longMode: true)     // mov %rax,(%rbx)
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_BBBB_CCCC_DDDD
        regs.rbx = afterRAM + 0xFF8
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: afterRAM + 0xFF8, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.writes.first?.gpa, afterRAM + 0xFF8)
        XCTAssertEqual(bus.writes.first?.size, 8)
        XCTAssertEqual(bus.writes.first?.value, 0xAAAA_BBBB_CCCC_DDDD)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)

        let load = makeVMCS([0x48, 0x8B, 0x0B], longMode: true)     // mov (%rbx),%rcx
        regs.rbx = afterRAM
        var bus2 = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(load, &regs, gpa: afterRAM, memory: ram.memory, bus: &bus2))
        XCTAssertEqual(regs.rcx, 0x1122_3344_5566_7788)
    }

    func testAnAccessFromTheDevicePageIntoRAMIsRefused() {
        let vmcs = makeDeviceThenVMCS([0x48, 0x89, 0x03], next: 0x5000)   // mov %rax,(%rbx)
        ram.put64(0x5555_5555_5555_5555, 0x5000)
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_BBBB_CCCC_DDDD
        regs.rbx = 0x4000_0FFC
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: 0xFEC0_0FFC, memory: ram.memory, bus: &bus),
                       .crossesRegionBoundary(linear: 0x4000_0FFC, size: 8))
        XCTAssertTrue(bus.writes.isEmpty)
        XCTAssertEqual(ram.get64(0x5000), 0x5555_5555_5555_5555, "the RAM part is not dropped silently: nothing is written")
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnAccessFromOneDeviceIntoAnotherIsRefused() {
        let vmcs = makeDeviceThenVMCS([0x48, 0x8B, 0x0B], next: 0xFEE0_0000)   // mov (%rbx),%rcx
        var regs = GuestRegisters()
        regs.rbx = 0x4000_0FFE
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: 0xFEC0_0FFE, memory: ram.memory, bus: &bus),
                       .crossesRegionBoundary(linear: 0x4000_0FFE, size: 8))
        XCTAssertTrue(bus.reads.isEmpty)
    }

    func testAnAccessIntoTheSameDevicesNextPageIsOneAccess() {
        // As ECAM across two functions: the device takes all 8 bytes at its offset.
        let vmcs = makeDeviceThenVMCS([0x48, 0x89, 0x03], next: 0xFEC0_1000)   // mov %rax,(%rbx)
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_BBBB_CCCC_DDDD
        regs.rbx = 0x4000_0FFC
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: 0xFEC0_0FFC, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.writes.first?.gpa, 0xFEC0_0FFC)
        XCTAssertEqual(bus.writes.first?.size, 8)

        // The same device's pages the other way round are not one access.
        let swapped = makeDeviceThenVMCS([0x48, 0x89, 0x03], first: 0xFEC0_1000, next: 0xFEC0_0000)
        var bus2 = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(swapped, &regs, gpa: 0xFEC0_1FFC, memory: ram.memory, bus: &bus2),
                       .crossesRegionBoundary(linear: 0x4000_0FFC, size: 8))
        XCTAssertTrue(bus2.writes.isEmpty)
    }

    func testAnAccessFromTheDevicePageIntoNothingGoesToTheDevice() {
        // No RAM and no device on the next page: the device takes the access at its offset.
        let vmcs = makeDeviceThenVMCS([0x48, 0x89, 0x03], next: 0xE000_0000)
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_BBBB_CCCC_DDDD
        regs.rbx = 0x4000_0FFC
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: 0xFEC0_0FFC, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.writes.first?.gpa, 0xFEC0_0FFC)
        XCTAssertEqual(bus.writes.first?.size, 8)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)
    }

    func testTheOperandsLinearAddressTakesFSAndGSBasesInSixtyFourBitMode() {
        let code: [UInt8] = [0x64, 0x89, 0x06]            // mov %eax,%fs:(%rsi)
        let vmcs = makeVMCS(code, longMode: true)
        vmcs.fields[.guestFSBase] = 0x1000
        var regs = GuestRegisters()
        regs.rsi = device - 0x1000
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.writes.first?.gpa, device)

        // An FS base 8 bytes off puts the operand elsewhere in the page than the exit reports.
        let off = makeVMCS(code, longMode: true)
        off.fields[.guestFSBase] = 0x1008
        XCTAssertEqual(MMIOExit.handle(off, &regs, gpa: device, memory: ram.memory, bus: &bus),
                       .operandElsewhere(linear: device + 8))
        XCTAssertEqual(bus.writes.count, 1)

        // DS has no base in 64-bit mode.
        let plain = makeVMCS([0x89, 0x06], longMode: true)   // mov %eax,(%rsi)
        plain.fields[.guestDSBase] = 0x1008
        regs.rsi = device
        XCTAssertNil(MMIOExit.handle(plain, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.writes.count, 2)
    }

    func testAFourByteStoreAcrossTheEndOfRAMIn32BitModeIsRefused() {
        // DS base 0x10 with EBX 0xF_FFEE: linear 0xF_FFFE, two bytes of RAM and two of the device.
        let vmcs = makeVMCS([0x89, 0x03])                 // mov [ebx], eax
        vmcs.fields[.guestDSBase] = 0x10
        var regs = GuestRegisters()
        regs.rbx = 0xF_FFEE
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: afterRAM, memory: ram.memory, bus: &bus),
                       .crossesRegionBoundary(linear: 0xF_FFFE, size: 4))
        XCTAssertTrue(bus.writes.isEmpty)
    }
}
