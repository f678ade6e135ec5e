import XCTest
@testable import X86

final class ExceptionVectorTests: XCTestCase {
    func testVectors() {
        XCTAssertEqual(ExceptionVector.divideError.rawValue, 0)
        XCTAssertEqual(ExceptionVector.generalProtection.rawValue, 13)
        XCTAssertEqual(ExceptionVector.pageFault.rawValue, 14)
        XCTAssertEqual(ExceptionVector.virtualization.rawValue, 20)
        XCTAssertEqual(ExceptionVector.controlProtection.rawValue, 21)
        XCTAssertEqual(Format.string(ExceptionVector.generalProtection.mnemonic), "#GP")
        XCTAssertEqual(Format.string(ExceptionVector.virtualization.mnemonic), "#VE")
        XCTAssertNil(ExceptionVector.mnemonic(vector: 15))
        XCTAssertEqual(ExceptionVector.pageFault.bitmapBit, 0x4000)
    }

    func testErrorCodes() {
        let withCode = ExceptionVector.allCases.filter(\.pushesErrorCode).map(\.rawValue)
        XCTAssertEqual(withCode, [8, 10, 11, 12, 13, 14, 17, 21])
        XCTAssertFalse(ExceptionVector.pushesErrorCode(vector: 32))
        XCTAssertFalse(ExceptionVector.pushesErrorCode(vector: 200))
        for v in ExceptionVector.allCases {
            XCTAssertFalse(Format.string(v.name).isEmpty)
        }
    }

    func testFormat() {
        XCTAssertEqual(Format.hex(0x2B), "0x2b")
        XCTAssertEqual(Format.hex(0), "0x0")
        XCTAssertEqual(Format.hex(0x00D8_1000_0000_002B, digits: 16), "0x00d810000000002b")
        XCTAssertEqual(Format.hex(UInt64.max), "0xffffffffffffffff")
        XCTAssertEqual(Format.hex(0xAB, digits: 4, prefix: false), "00ab")
        XCTAssertEqual(Format.decimal(0), "0")
        XCTAssertEqual(Format.decimal(4096), "4096")
        XCTAssertEqual(Format.decimal(UInt64.max), "18446744073709551615")
        XCTAssertEqual(Format.decimal(signed: -42), "-42")
        XCTAssertEqual(Format.decimal(signed: Int64.min), "-9223372036854775808")
    }
}
