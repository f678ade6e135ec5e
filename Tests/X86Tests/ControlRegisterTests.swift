import XCTest
@testable import X86

final class ControlRegisterTests: XCTestCase {
    func testCR0Bits() {
        XCTAssertEqual(CR0.pe.rawValue, 0x1)
        XCTAssertEqual(CR0.ne.rawValue, 0x20)
        XCTAssertEqual(CR0.wp.rawValue, 0x1_0000)
        XCTAssertEqual(CR0.pg.rawValue, 0x8000_0000)
        XCTAssertEqual(CR0([.pe, .ne, .pg]).rawValue, 0x8000_0021)
        XCTAssertEqual(CR0(rawValue: 0x8000_0021).names(), "PE, NE, PG")
    }

    func testCR4Bits() {
        XCTAssertEqual(CR4.pae.rawValue, 1 << 5)
        XCTAssertEqual(CR4.vmxe.rawValue, 0x2000)
        XCTAssertEqual(CR4.la57.rawValue, 1 << 12)
        XCTAssertEqual(CR4.osxsave.rawValue, 1 << 18)
        XCTAssertEqual(CR4.smep.rawValue, 1 << 20)
        XCTAssertEqual(CR4.smap.rawValue, 1 << 21)
        XCTAssertEqual(CR4.pke.rawValue, 1 << 22)
        XCTAssertEqual(CR4.cet.rawValue, 1 << 23)
        XCTAssertEqual(CR4(rawValue: 0x2000).names(), "VMXE")
        XCTAssertEqual(CR4(rawValue: 1 << 15).names(), "bit 15")
        XCTAssertEqual(CR4().names(), "none")
    }

    func testEFER() {
        XCTAssertEqual(EFER.sce.rawValue, 1)
        XCTAssertEqual(EFER.lme.rawValue, 0x100)
        XCTAssertEqual(EFER.lma.rawValue, 0x400)
        XCTAssertEqual(EFER.nxe.rawValue, 0x800)
        XCTAssertEqual(EFER([.lme, .lma, .nxe]).names(separator: "|"), "LME|LMA|NXE")
    }

    func testRFLAGS() {
        XCTAssertEqual(RFLAGS.initial.rawValue, 0x2)
        XCTAssertEqual(RFLAGS.if.rawValue, 0x200)
        XCTAssertEqual(RFLAGS.iopl.rawValue, 0x3000)
        XCTAssertEqual(RFLAGS.vm.rawValue, 1 << 17)
        XCTAssertEqual(RFLAGS.id.rawValue, 1 << 21)
        var f = RFLAGS.initial
        f.ioplLevel = 3
        XCTAssertEqual(f.rawValue, 0x3002)
        XCTAssertEqual(f.ioplLevel, 3)
        XCTAssertEqual(RFLAGS.reservedZeroMask & 0x8, 0x8)
        XCTAssertEqual(RFLAGS.reservedZeroMask & 0x2, 0)
        XCTAssertEqual(RFLAGS.reservedZeroMask & (1 << 22), 1 << 22)
    }

    func testNamedBitIteration() {
        let bits = Array(CR0([.pe, .pg]).namedBits)
        XCTAssertEqual(bits.map(\.bit), [0, 31])
        XCTAssertEqual(bits.map(\.label), ["PE", "PG"])
    }

    func testCR3() {
        XCTAssertEqual(CR3.addressMask, 0x000F_FFFF_FFFF_F000)
    }
}
