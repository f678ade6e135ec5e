import XCTest
import Machine

final class PCIBusTests: XCTestCase {
    /// A device with an I/O BAR, a 32-bit memory BAR and a 64-bit prefetchable memory BAR.
    func makeDevice() -> PCIConfigSpace {
        var space = PCIConfigSpace(vendorID: 0x1AF4, deviceID: 0x1042, revisionID: 1, classCode: 0x01_80_00,
                                   subsystemVendorID: 0x1AF4, subsystemID: 0x0002, interruptPin: .intA)
        XCTAssertTrue(space.defineBAR(0, PCIBARDefinition(kind: .io, size: 32)))
        XCTAssertTrue(space.defineBAR(1, PCIBARDefinition(kind: .memory32(prefetchable: false), size: 0x4000)))
        XCTAssertTrue(space.defineBAR(2, PCIBARDefinition(kind: .memory64(prefetchable: true), size: 0x10_0000)))
        XCTAssertFalse(space.defineBAR(5, PCIBARDefinition(kind: .memory64(prefetchable: false), size: 16)), "64-bit BAR 5 has no upper half")
        return space
    }

    func address(device: Int, register: Int, bus: Int = 0, function: Int = 0) -> UInt64 {
        0x8000_0000 | UInt64(bus) << 16 | UInt64(device) << 11 | UInt64(function) << 8 | UInt64(register)
    }

    func cfgRead(_ bus: inout PCIBus, device: Int, register: Int, size: Int) -> UInt64? {
        bus.portOut(port: 0xCF8, size: 4, value: address(device: device, register: register & 0xFC))
        return bus.portIn(port: 0xCFC + UInt16(register & 3), size: size)
    }

    func cfgWrite(_ bus: inout PCIBus, device: Int, register: Int, size: Int, value: UInt64) {
        bus.portOut(port: 0xCF8, size: 4, value: address(device: device, register: register & 0xFC))
        bus.portOut(port: 0xCFC + UInt16(register & 3), size: size, value: value)
    }

    func testHostBridgeAndAbsentDevices() {
        var bus = PCIBus()
        XCTAssertEqual(cfgRead(&bus, device: 0, register: 0, size: 4), 0x1237_8086)
        XCTAssertEqual(cfgRead(&bus, device: 0, register: 0x0B, size: 1), 0x06, "base class: bridge")
        XCTAssertEqual(cfgRead(&bus, device: 0, register: 0x0A, size: 1), 0x00, "subclass: host bridge")
        XCTAssertEqual(cfgRead(&bus, device: 3, register: 0, size: 4), 0xFFFF_FFFF, "empty slot")
        XCTAssertEqual(cfgRead(&bus, device: 31, register: 0, size: 2), 0xFFFF)
        bus.portOut(port: 0xCF8, size: 4, value: address(device: 0, register: 0, function: 1))
        XCTAssertEqual(bus.portIn(port: 0xCFC, size: 4), 0xFFFF_FFFF, "function 1 of a single-function device")
        bus.portOut(port: 0xCF8, size: 4, value: address(device: 0, register: 0, bus: 1))
        XCTAssertEqual(bus.portIn(port: 0xCFC, size: 1), 0xFF, "bus 1 does not exist")
    }

    func testConfigAddressRegister() {
        var bus = PCIBus()
        bus.portOut(port: 0xCF8, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(bus.portIn(port: 0xCF8, size: 4), 0x80FF_FFFC, "reserved bits 30:24 and 1:0 read 0")
        // Enable bit clear: CONFIG_DATA does not reach configuration space.
        bus.portOut(port: 0xCF8, size: 4, value: 0x0000_0000)
        XCTAssertEqual(bus.portIn(port: 0xCFC, size: 4), 0xFFFF_FFFF)
        // Narrow accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS (0xCF9 is the reset control register).
        XCTAssertNil(bus.portIn(port: 0xCF8, size: 1))
        XCTAssertNil(bus.portIn(port: 0xCF9, size: 1))
        XCTAssertFalse(bus.portOut(port: 0xCF9, size: 1, value: 6))
        XCTAssertFalse(bus.portOut(port: 0xCF8, size: 2, value: 0))
        XCTAssertNil(bus.portIn(port: 0xD00, size: 1))
        XCTAssertEqual(bus.portIn(port: 0xCF8, size: 4), 0, "narrow writes left CONFIG_ADDRESS alone")
    }

    func testDataPortAtEveryWidthAndOffset() {
        var bus = PCIBus()
        XCTAssertTrue(bus.attach(makeDevice(), device: 2))
        XCTAssertFalse(bus.attach(makeDevice(), device: 2), "slot taken")
        XCTAssertFalse(bus.attach(makeDevice(), device: 0), "the host bridge's slot")
        XCTAssertFalse(bus.attach(makeDevice(), device: 8))
        let dword: UInt64 = 0x1042_1AF4
        for offset in 0..<4 {
            for size in [1, 2, 4] where offset + size <= 4 {
                let expected = (dword >> UInt64(offset * 8)) & IOAccess.mask(size: size)
                XCTAssertEqual(cfgRead(&bus, device: 2, register: offset, size: size), expected, "offset \(offset) size \(size)")
            }
        }
        // A dword read at 0xCFE straddles the end of CONFIG_DATA: the bytes past 0xCFF float high.
        bus.portOut(port: 0xCF8, size: 4, value: address(device: 2, register: 0))
        XCTAssertEqual(bus.portIn(port: 0xCFE, size: 4), 0xFFFF_1042)
        // Byte writes into the interrupt line at 0x3C through 0xCFC.
        cfgWrite(&bus, device: 2, register: 0x3C, size: 1, value: 0x0B)
        XCTAssertEqual(cfgRead(&bus, device: 2, register: 0x3C, size: 4), 0x0000_010B, "line 11, pin INTA, min/max grant 0")
        cfgWrite(&bus, device: 2, register: 0x3D, size: 1, value: 0x04)
        XCTAssertEqual(cfgRead(&bus, device: 2, register: 0x3D, size: 1), 0x01, "interrupt pin is read-only")
    }

    func testReadOnlyIdentity() {
        var bus = PCIBus()
        bus.attach(makeDevice(), device: 1)
        cfgWrite(&bus, device: 1, register: 0, size: 4, value: 0)
        cfgWrite(&bus, device: 1, register: 8, size: 4, value: 0)
        cfgWrite(&bus, device: 1, register: 0x2C, size: 4, value: 0)
        cfgWrite(&bus, device: 1, register: 0x0E, size: 1, value: 0x80)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0, size: 4), 0x1042_1AF4)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 8, size: 4), 0x0180_0001)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x2C, size: 4), 0x0002_1AF4)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x0E, size: 1), 0x00, "header type 0, single function")
        cfgWrite(&bus, device: 1, register: 0x0C, size: 2, value: 0x4010)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x0C, size: 2), 0x4010, "cache line size and latency timer are RW")
    }

    func testCommandAndRW1CStatus() {
        var space = makeDevice()
        space.write(offset: 4, size: 2, value: 0xFFFF)
        XCTAssertEqual(space.command, PCICommand.writable, "only implemented command bits stick")
        // Set every status bit behind software's back, then clear two of the RW1C bits.
        space.setRaw(0xF918, at: 6, size: 2)
        space.write(offset: 6, size: 2, value: 0x2800)
        XCTAssertEqual(space.status, 0xD118, "bits 13 and 11 cleared, others kept")
        space.write(offset: 6, size: 2, value: 0x0018)
        XCTAssertEqual(space.status, 0xD118, "interrupt status and capabilities list are read-only")
        // A dword write to 0x04 writes command and status together.
        space.write(offset: 4, size: 4, value: 0xFFFF_0000)
        XCTAssertEqual(space.command, 0)
        XCTAssertEqual(space.status, 0x0018)
    }

    func testBARSizing() {
        var bus = PCIBus()
        bus.attach(makeDevice(), device: 1)
        // I/O BAR: 32 bytes, bit 0 set, upper 16 bits hardwired to 0.
        cfgWrite(&bus, device: 1, register: 0x10, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x10, size: 4), 0x0000_FFE1)
        // 32-bit memory BAR: 16 KiB, not prefetchable.
        cfgWrite(&bus, device: 1, register: 0x14, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x14, size: 4), 0xFFFF_C000)
        // 64-bit prefetchable memory BAR: 1 MiB over 0x18/0x1C.
        cfgWrite(&bus, device: 1, register: 0x18, size: 4, value: 0xFFFF_FFFF)
        cfgWrite(&bus, device: 1, register: 0x1C, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x18, size: 4), 0xFFF0_000C)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x1C, size: 4), 0xFFFF_FFFF)
        // Unimplemented BARs and the expansion ROM read 0 and ignore writes.
        cfgWrite(&bus, device: 1, register: 0x24, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x24, size: 4), 0)
        cfgWrite(&bus, device: 1, register: 0x30, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(cfgRead(&bus, device: 1, register: 0x30, size: 4), 0)
        // Placing: the low address bits are dropped to the BAR's alignment.
        cfgWrite(&bus, device: 1, register: 0x14, size: 4, value: 0xE000_1234)
        cfgWrite(&bus, device: 1, register: 0x18, size: 4, value: 0x0012_3456)
        cfgWrite(&bus, device: 1, register: 0x1C, size: 4, value: 0x0000_0001)
        cfgWrite(&bus, device: 1, register: 0x10, size: 4, value: 0xC07F)
        var space = bus.function(device: 1)!
        XCTAssertEqual(space.barAddress(0), 0xC060)
        XCTAssertEqual(space.barAddress(1), 0xE000_0000)
        XCTAssertEqual(space.barAddress(2), 0x1_0010_0000)
        XCTAssertNil(space.barAddress(3), "the upper half of a 64-bit BAR is not a BAR")
        XCTAssertEqual(space.barKind(2), .memory64(prefetchable: true))
    }

    func testMemoryDecodeNeedsCommandBit() {
        var bus = PCIBus()
        bus.attach(makeDevice(), device: 1)
        cfgWrite(&bus, device: 1, register: 0x14, size: 4, value: 0xE000_0000)
        XCTAssertNil(bus.decodeMemory(address: 0xE000_0010), "memory space disabled")
        cfgWrite(&bus, device: 1, register: 4, size: 2, value: UInt64(PCICommand.memorySpace))
        XCTAssertEqual(bus.decodeMemory(address: 0xE000_0010)?.device, 1)
        XCTAssertEqual(bus.decodeMemory(address: 0xE000_0010)?.bar, 1)
        XCTAssertEqual(bus.decodeMemory(address: 0xE000_3FFF)?.offset, 0x3FFF)
        XCTAssertNil(bus.decodeMemory(address: 0xE000_4000))
        XCTAssertNil(bus.decodeMemory(address: 0xDFFF_FFFF))
    }

    func testCapabilityList() {
        var space = makeDevice()
        XCTAssertEqual(space.status & PCIStatus.capabilitiesList, 0)
        let first: [UInt8] = [14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
        let second: [UInt8] = [3, 0xAA]
        let a = first.withUnsafeBytes { space.addCapability(id: 0x09, body: $0) }
        let b = second.withUnsafeBytes { space.addCapability(id: 0x09, body: $0) }
        XCTAssertEqual(a, 0x40)
        XCTAssertEqual(b, 0x50, "dword aligned after 16 bytes")
        XCTAssertNotEqual(space.status & PCIStatus.capabilitiesList, 0)
        XCTAssertEqual(space.read(offset: 0x34, size: 1), 0x40)
        XCTAssertEqual(space.read(offset: 0x40, size: 2), 0x5009, "vendor-specific, next at 0x50")
        XCTAssertEqual(space.read(offset: 0x50, size: 4), 0xAA03_0009, "last in the list: next 0")
        space.write(offset: 0x40, size: 4, value: 0)
        XCTAssertEqual(space.read(offset: 0x40, size: 2), 0x5009, "capabilities are read-only")
        var full = makeDevice()
        let big = [UInt8](repeating: 0, count: 150)
        XCTAssertNotNil(big.withUnsafeBytes { full.addCapability(id: 9, body: $0) })
        XCTAssertNil(big.withUnsafeBytes { full.addCapability(id: 9, body: $0) }, "no room left")
    }

    func testECAM() {
        var bus = PCIBus()
        bus.attach(makeDevice(), device: 2)
        let decoded = PCIECAMAddress(offset: 3 << 20 | 5 << 15 | 2 << 12 | 0x3C)
        XCTAssertEqual(decoded?.function, PCIFunctionAddress(bus: 3, device: 5, function: 2))
        XCTAssertEqual(decoded?.register, 0x3C)
        XCTAssertNil(PCIECAMAddress(offset: 256 << 20))
        XCTAssertEqual(bus.ecamRead(offset: 2 << 15, size: 4), 0x1042_1AF4)
        XCTAssertEqual(bus.ecamRead(offset: 2 << 15 | 2, size: 2), 0x1042)
        XCTAssertEqual(bus.ecamRead(offset: 2 << 15 | 0x100, size: 4), 0, "no extended capabilities")
        XCTAssertEqual(bus.ecamRead(offset: 4 << 15, size: 4), 0xFFFF_FFFF)
        XCTAssertEqual(bus.ecamRead(offset: 1 << 20 | 2 << 15, size: 4), 0xFFFF_FFFF)
        bus.ecamWrite(offset: 2 << 15 | 0x3C, size: 1, value: 10)
        XCTAssertEqual(inspect(bus.function(device: 2)!) { $0.interruptLine }, 10)
    }

    func testINTxAndResourceAssignment() {
        var bus = PCIBus()
        bus.attach(makeDevice(), device: 1)
        bus.attach(makeDevice(), device: 2)
        XCTAssertTrue(bus.assignResources(memoryBase: 0xE000_0000, memoryLimit: 0xF000_0000, ioBase: 0xC000, ioLimit: 0x1_0000,
                                          irq: { $0 == 1 ? 10 : 11 }))
        var one = bus.function(device: 1)!, two = bus.function(device: 2)!
        XCTAssertEqual(one.barAddress(0), 0xC000)
        XCTAssertEqual(two.barAddress(0), 0xC020)
        XCTAssertEqual(one.barAddress(1), 0xE000_0000)
        XCTAssertEqual(one.barAddress(2), 0xE010_0000, "1 MiB aligned")
        XCTAssertEqual(two.barAddress(1), 0xE020_0000)
        XCTAssertEqual(one.interruptLine, 10)
        XCTAssertEqual(bus.assertedIRQs, 0)
        bus.setInterruptStatus(device: 2, true)
        XCTAssertEqual(bus.assertedIRQs, 1 << 11)
        XCTAssertNotEqual(inspect(bus.function(device: 2)!) { $0.status } & PCIStatus.interruptStatus, 0)
        bus.withFunction(device: 2) { $0.write(offset: 4, size: 2, value: UInt32($0.command | PCICommand.interruptDisable)) }
        XCTAssertEqual(bus.assertedIRQs, 0, "Interrupt Disable masks INTx")
        var small = PCIBus()
        small.attach(makeDevice(), device: 1)
        XCTAssertFalse(small.assignResources(memoryBase: 0xE000_0000, memoryLimit: 0xE000_1000, ioBase: 0xC000, ioLimit: 0x1_0000, irq: { _ in 10 }))
    }
}
