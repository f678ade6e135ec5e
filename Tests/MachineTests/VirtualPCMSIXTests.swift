import XCTest
@testable import Machine

/// MSI-X on the virtual PC: the virtio devices' messages reach the local APICs the way the
/// I/O APIC's do (Intel SDM Vol. 3A §11.11), with the table's masks and pending bits
/// (PCI 3.0 §6.8.2) and INTx silent while MSI-X is on.
final class VirtualPCMSIXTests: XCTestCase {
    typealias PC = VirtualPCPCITests.PC
    typealias PCBAR = VirtualPCPCITests.PCBAR
    let cap = VirtioPCILayout.msixCapability

    func config(_ pc: inout PC, device: Int = 1, register: Int, size: Int, value: UInt32) {
        pc.portOut(port: 0xCF8, size: 4, value: 0x8000_0000 | UInt32(device) << 11 | UInt32(register & ~3), tsc: 0)
        pc.portOut(port: 0xCFC + UInt16(register & 3), size: size, value: value, tsc: 0)
    }

    func configRead(_ pc: inout PC, device: Int = 1, register: Int, size: Int) -> UInt32 {
        pc.portOut(port: 0xCF8, size: 4, value: 0x8000_0000 | UInt32(device) << 11 | UInt32(register & ~3), tsc: 0)
        return pc.portIn(port: 0xCFC + UInt16(register & 3), size: size, tsc: 0)
    }

    /// A PC with `vcpus` software-enabled local APICs and the disk; MSI-X set up as Linux does
    /// (Enable with Function Mask, the entries written, every entry masked, Function Mask cleared,
    /// then each vector unmasked).
    func makePC(_ fixture: VirtualPCPCITests.Fixture, vcpus: Int = 1, unmask: Bool = true,
                entries: [(address: UInt64, data: UInt32)] = [(0xFEE0_0000, 0x51), (0xFEE0_0000, 0x52)]) -> PCBAR {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                    clock: GuestClock(tscHz: 50_000_000, tscBase: 0))
        pc.enableAPIC(tscHz: 50_000_000, x2APIC: true, tscDeadline: true, physicalAddressBits: 39, vcpus: vcpus)
        pc.attachPCI(fixture.platform)
        for i in 0..<vcpus {
            XCTAssertTrue(pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xF0, size: 4, value: 0x1FF, tsc: 0, vcpu: i))
        }
        config(&pc, register: cap + 2, size: 2, value: 0xC000)
        let table = UInt64(configRead(&pc, register: 0x14, size: 4) & ~0xF)
        XCTAssertEqual(table, 0xE000_4000)
        for (n, entry) in entries.enumerated() {
            let at = table + UInt64(n) * 16
            XCTAssertEqual(pc.mmioRead(gpa: at + 12, size: 4, tsc: 0), 1, "masked at reset")
            XCTAssertTrue(pc.mmioWrite(gpa: at, size: 4, value: entry.address & 0xFFFF_FFFF, tsc: 0))
            XCTAssertTrue(pc.mmioWrite(gpa: at + 4, size: 4, value: entry.address >> 32, tsc: 0))
            XCTAssertTrue(pc.mmioWrite(gpa: at + 8, size: 4, value: UInt64(entry.data), tsc: 0))
        }
        config(&pc, register: cap + 2, size: 2, value: 0x8000)
        if unmask {
            for n in 0..<entries.count { XCTAssertTrue(pc.mmioWrite(gpa: table + UInt64(n) * 16 + 12, size: 4, value: 0, tsc: 0)) }
        }
        return PCBAR(pc: pc, base: 0xE000_0000)
    }

    func testQueueInterruptIsAMessageNotINTx() {
        let fixture = VirtualPCPCITests.Fixture()
        var bar = makePC(fixture)
        XCTAssertEqual(fixture.driver.initialize(&bar, features: 1 << 32, queueCount: 1, driverOK: false), 0xB)
        bar.write(offset: 0x10, size: 2, value: 0)              // config_msix_vector = 0
        XCTAssertEqual(bar.read(offset: 0x10, size: 2), 0)
        bar.write(offset: 0x16, size: 2, value: 0)
        bar.write(offset: 0x1A, size: 2, value: 1)              // queue 0 → vector 1
        XCTAssertEqual(bar.read(offset: 0x1A, size: 2), 1)
        bar.write(offset: 0x1A, size: 2, value: 2)              // past the table (2 entries)
        XCTAssertEqual(bar.read(offset: 0x1A, size: 2), 0xFFFF, "NO_VECTOR")
        bar.write(offset: 0x1A, size: 2, value: 1)
        bar.write(offset: 0x14, size: 1, value: 0xF)
        let data = VirtualPCPCITests.readSector(&bar, fixture.driver, sector: 5, head: 0)
        XCTAssertEqual(fixture.driver.bytes(at: data, count: 512), fixture.disk.sector(5))
        XCTAssertEqual(bar.pc.pci!.pointee.assertedIRQs, 0, "no INTx with MSI-X on")
        XCTAssertTrue(bar.pc.interruptPending)
        XCTAssertEqual(bar.pc.acknowledge(), 0x52, "queue 0's vector")
        XCTAssertEqual(bar.pc.pci!.pointee.messagesDelivered, 1)
    }

    /// A masked entry holds the message in the PBA; unmasking it sends it. A bogus entry is
    /// dropped and counted, never delivered; INTx stays quiet throughout.
    func testPendingBitAndHostileEntries() {
        let fixture = VirtualPCPCITests.Fixture()
        var bar = makePC(fixture, unmask: false, entries: [(0xFEE0_0000, 0x51), (0xFEE0_0000, 0x52)])
        XCTAssertEqual(fixture.driver.initialize(&bar, features: 1 << 32, queueCount: 1, driverOK: false), 0xB)
        bar.write(offset: 0x16, size: 2, value: 0)
        bar.write(offset: 0x1A, size: 2, value: 1)
        bar.write(offset: 0x14, size: 1, value: 0xF)
        _ = VirtualPCPCITests.readSector(&bar, fixture.driver, sector: 1, head: 0)
        XCTAssertFalse(bar.pc.interruptPending, "vector 1 is masked")
        XCTAssertEqual(bar.pc.mmioRead(gpa: 0xE000_4800, size: 8, tsc: 0), 2, "PBA bit 1")
        XCTAssertTrue(bar.pc.mmioWrite(gpa: 0xE000_4800, size: 8, value: 0, tsc: 0), "the PBA is read-only")
        XCTAssertEqual(bar.pc.mmioRead(gpa: 0xE000_4800, size: 4, tsc: 0), 2)
        XCTAssertTrue(bar.pc.mmioWrite(gpa: 0xE000_4000 + 16 + 12, size: 2, value: 0, tsc: 0), "a word write: ignored")
        XCTAssertFalse(bar.pc.interruptPending)
        XCTAssertTrue(bar.pc.mmioWrite(gpa: 0xE000_4000 + 16 + 12, size: 4, value: 0, tsc: 0))
        XCTAssertEqual(bar.pc.mmioRead(gpa: 0xE000_4800, size: 4, tsc: 0), 0)
        XCTAssertTrue(bar.pc.interruptPending, "unmasked: the pending message is sent")
        XCTAssertEqual(bar.pc.acknowledge(), 0x52)
        XCTAssertTrue(bar.pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xB0, size: 4, value: 0, tsc: 0))
        // Hostile entries: outside 0xFEExxxxx, a vector below 16, SMI, ExtINT.
        var dropped: UInt64 = 0
        for (address, data) in [(UInt64(0xE000_0000), UInt32(0x52)), (0xFEE0_0000, 0x05), (0xFEE0_0000, 0x0252),
                                (0xFEE0_0000, 0x0752), (0x1_FEE0_0000, 0x52)] {
            XCTAssertTrue(bar.pc.mmioWrite(gpa: 0xE000_4000 + 16, size: 8, value: address, tsc: 0))
            XCTAssertTrue(bar.pc.mmioWrite(gpa: 0xE000_4000 + 24, size: 4, value: UInt64(data), tsc: 0))
            _ = VirtualPCPCITests.readSector(&bar, fixture.driver, sector: 2, head: 3)
            dropped += 1
            XCTAssertEqual(bar.pc.pci!.pointee.messagesDropped, dropped)
            XCTAssertFalse(bar.pc.interruptPending, "\(address) \(data) delivered nothing")
            XCTAssertEqual(bar.pc.pci!.pointee.assertedIRQs, 0)
        }
        XCTAssertEqual(bar.pc.pci!.pointee.messagesDelivered, 1)
    }

    /// MSI-X off again (the driver's fallback): the device goes back to ISR and INTx.
    func testDisablingMSIXReturnsToINTx() {
        let fixture = VirtualPCPCITests.Fixture()
        var bar = makePC(fixture)
        XCTAssertEqual(fixture.driver.initialize(&bar, features: 1 << 32, queueCount: 1), 0xF)
        config(&bar.pc, register: cap + 2, size: 2, value: 0)
        _ = VirtualPCPCITests.readSector(&bar, fixture.driver, sector: 1, head: 0)
        XCTAssertEqual(bar.pc.pci!.pointee.assertedIRQs, 1 << 10, "INTx asserted")
        XCTAssertEqual(bar.pc.pci!.pointee.messagesDelivered, 0)
        config(&bar.pc, register: cap + 2, size: 2, value: 0x8000)
        XCTAssertEqual(bar.pc.pci!.pointee.assertedIRQs, 0, "enabling MSI-X releases INTx")
    }

    /// The destination ID picks the vCPU: physical APIC ID 2 of 4, and a logical (flat) destination.
    func testMessagesReachTheAddressedVCPU() {
        let fixture = VirtualPCPCITests.Fixture()
        var bar = makePC(fixture, vcpus: 4, entries: [(0xFEE0_0000, 0x51), (0xFEE0_2000, 0x61)])
        XCTAssertEqual(fixture.driver.initialize(&bar, features: 1 << 32, queueCount: 1, driverOK: false), 0xB)
        bar.write(offset: 0x16, size: 2, value: 0)
        bar.write(offset: 0x1A, size: 2, value: 1)
        bar.write(offset: 0x14, size: 1, value: 0xF)
        _ = VirtualPCPCITests.readSector(&bar, fixture.driver, sector: 1, head: 0)
        XCTAssertEqual(bar.pc.pendingVCPUs, 1 << 2, "only vCPU 2")
        XCTAssertEqual(bar.pc.acknowledge(vcpu: 2), 0x61)
        XCTAssertTrue(bar.pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xB0, size: 4, value: 0, tsc: 0, vcpu: 2))
        // Flat logical mode: vCPU 3's logical ID is bit 3 (LDR), DM = 1, RH = 0 as Linux writes it.
        XCTAssertTrue(bar.pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xD0, size: 4, value: 0x0800_0000, tsc: 0, vcpu: 3))
        XCTAssertTrue(bar.pc.mmioWrite(gpa: 0xE000_4000 + 16, size: 4, value: 0xFEE0_8004, tsc: 0))
        _ = VirtualPCPCITests.readSector(&bar, fixture.driver, sector: 1, head: 3)
        XCTAssertEqual(bar.pc.pendingVCPUs, 1 << 3)
        XCTAssertEqual(bar.pc.acknowledge(vcpu: 3), 0x61)
    }

    /// ECAM: the same configuration space as mechanism #1, at every width.
    func testECAMMatchesMechanism1() {
        let fixture = VirtualPCPCITests.Fixture(net: true)
        var pc = fixture.makePC(apic: false)
        let ecam = TestPlatform.ecamBase
        XCTAssertEqual(ecam, 0xF000_0000)
        XCTAssertTrue(pc.hasMMIODevice(at: ecam))
        XCTAssertTrue(pc.hasMMIODevice(at: ecam + 0xF_FFFF))
        XCTAssertFalse(pc.hasMMIODevice(at: ecam + 0x10_0000), "one bus: 1 MiB")
        XCTAssertNil(pc.mmioRead(gpa: ecam + 0x10_0000, size: 4, tsc: 0))
        for device in 0..<4 {
            for register in stride(from: 0, to: 0x100, by: 1) {
                for size in [1, 2, 4] where register + size <= 0x100 {
                    let viaPorts = configRead(&pc, device: device, register: register, size: size)
                    let viaECAM = pc.mmioRead(gpa: ecam + UInt64(device) << 15 + UInt64(register), size: size, tsc: 0)
                    if register & 3 + size <= 4 {
                        XCTAssertEqual(viaECAM, UInt64(viaPorts), "device \(device) register \(register) size \(size)")
                    }
                }
            }
        }
        let dev1 = ecam + 1 << 15
        let low = UInt64(configRead(&pc, device: 1, register: 0, size: 4)), high = UInt64(configRead(&pc, device: 1, register: 4, size: 4))
        XCTAssertEqual(pc.mmioRead(gpa: dev1, size: 8, tsc: 0), low | high << 32, "an 8-byte read is two dwords")
        XCTAssertEqual(pc.mmioRead(gpa: dev1 + 0x100, size: 4, tsc: 0), 0, "extended header 0: no extended capabilities")
        XCTAssertEqual(pc.mmioRead(gpa: dev1 + 0xFFC, size: 4, tsc: 0), 0)
        XCTAssertEqual(pc.mmioRead(gpa: ecam + 5 << 15 + 0x100, size: 4, tsc: 0), 0xFFFF_FFFF, "absent function")
        XCTAssertEqual(pc.mmioRead(gpa: ecam + 5 << 15, size: 2, tsc: 0), 0xFFFF)
        XCTAssertEqual(pc.mmioRead(gpa: dev1 + 1 << 12, size: 4, tsc: 0), 0xFFFF_FFFF, "function 1 is absent")
        // Writes through ECAM are writes to the same registers.
        XCTAssertTrue(pc.mmioWrite(gpa: dev1 + 0x3C, size: 1, value: 0x77, tsc: 0))
        XCTAssertEqual(configRead(&pc, device: 1, register: 0x3C, size: 1), 0x77)
        XCTAssertTrue(pc.mmioWrite(gpa: dev1 + 0x10, size: 8, value: 0xE020_4000_E010_0000, tsc: 0))
        XCTAssertEqual(configRead(&pc, device: 1, register: 0x10, size: 4), 0xE010_0000, "BAR 0 moved")
        XCTAssertEqual(configRead(&pc, device: 1, register: 0x14, size: 4), 0xE020_4000, "BAR 1, the upper half of the qword")
        XCTAssertTrue(pc.mmioWrite(gpa: dev1 + 0x100, size: 4, value: 0x1234, tsc: 0), "extended space: dropped")
        XCTAssertEqual(pc.mmioRead(gpa: dev1 + 0x100, size: 4, tsc: 0), 0)
        XCTAssertTrue(pc.mmioWrite(gpa: ecam + 6 << 15, size: 4, value: 0, tsc: 0), "absent: dropped")
        // MSI-X Enable written through ECAM takes effect like one through 0xCFC.
        XCTAssertTrue(pc.mmioWrite(gpa: dev1 + UInt64(cap) + 2, size: 2, value: 0x8000, tsc: 0))
        XCTAssertTrue(pc.pci!.pointee.block!.msix.isEnabled)
    }
}
