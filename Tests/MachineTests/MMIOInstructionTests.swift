import XCTest
@testable import Machine

/// The MMIO instruction decoder over a table of real encodings: each byte string was assembled
/// with `clang -c` (x86_64, i686 `.code32`/`.code16`) and read back with `objdump -d`; the first
/// five are the xAPIC accessors in Debian's vmlinux (native_apic_mem_read/write, the ICR writes
/// of __default_send_IPI_dest_field, native_apic_mem_eoi-style constant stores).
final class MMIOInstructionTests: XCTestCase {
    struct Case {
        let bytes: [UInt8]
        let mode: MMIOCodeSize
        let text: String
        let expected: MMIOInstruction
    }

    static func ins(_ kind: MMIOAccessKind, _ size: Int, reg: UInt8, high: Bool = false, regSize: Int? = nil,
                    ext: MMIOExtension = .none, imm: UInt64 = 0, memDest: Bool = false, len: Int) -> MMIOInstruction {
        MMIOInstruction(kind: kind, size: size, register: reg, highByteRegister: high, registerSize: regSize ?? size,
                        extension_: ext, immediate: imm, memoryIsDestination: memDest, length: len)
    }

    static let table: [Case] = [
        Case(bytes: [0x8B, 0x87, 0x00, 0xD0, 0x5F, 0xFF], mode: .bits64, text: "mov -0xa03000(%rdi),%eax", expected: ins(.load, 4, reg: 0, len: 6)),
        Case(bytes: [0x89, 0xB7, 0x00, 0xD0, 0x5F, 0xFF], mode: .bits64, text: "mov %esi,-0xa03000(%rdi)", expected: ins(.store, 4, reg: 6, len: 6)),
        Case(bytes: [0x8B, 0x04, 0x25, 0x00, 0xD3, 0x5F, 0xFF], mode: .bits64, text: "mov 0xffffffffff5fd300,%eax", expected: ins(.load, 4, reg: 0, len: 7)),
        Case(bytes: [0x89, 0x3C, 0x25, 0x10, 0xD3, 0x5F, 0xFF], mode: .bits64, text: "mov %edi,0xffffffffff5fd310", expected: ins(.store, 4, reg: 7, len: 7)),
        Case(bytes: [0xC7, 0x04, 0x25, 0xB0, 0xC0, 0x5F, 0xFF, 0x00, 0x00, 0x00, 0x00], mode: .bits64, text: "movl $0x0,0xffffffffff5fc0b0", expected: ins(.storeImmediate, 4, reg: 0, imm: 0, len: 11)),
        Case(bytes: [0x8B, 0x07], mode: .bits64, text: "mov (%rdi),%eax (readl)", expected: ins(.load, 4, reg: 0, len: 2)),
        Case(bytes: [0x89, 0x37], mode: .bits64, text: "mov %esi,(%rdi) (writel)", expected: ins(.store, 4, reg: 6, len: 2)),
        Case(bytes: [0x48, 0x8B, 0x07], mode: .bits64, text: "mov (%rdi),%rax (readq)", expected: ins(.load, 8, reg: 0, len: 3)),
        Case(bytes: [0x48, 0x89, 0x37], mode: .bits64, text: "mov %rsi,(%rdi) (writeq)", expected: ins(.store, 8, reg: 6, len: 3)),
        Case(bytes: [0x8A, 0x07], mode: .bits64, text: "mov (%rdi),%al (readb)", expected: ins(.load, 1, reg: 0, len: 2)),
        Case(bytes: [0x40, 0x88, 0x37], mode: .bits64, text: "mov %sil,(%rdi) (writeb)", expected: ins(.store, 1, reg: 6, len: 3)),
        Case(bytes: [0x66, 0x8B, 0x07], mode: .bits64, text: "mov (%rdi),%ax (readw)", expected: ins(.load, 2, reg: 0, len: 3)),
        Case(bytes: [0x66, 0x89, 0x37], mode: .bits64, text: "mov %si,(%rdi) (writew)", expected: ins(.store, 2, reg: 6, len: 3)),
        Case(bytes: [0x8B, 0x40, 0x10], mode: .bits64, text: "mov 0x10(%rax),%eax (io_apic_read data)", expected: ins(.load, 4, reg: 0, len: 3)),
        Case(bytes: [0x45, 0x89, 0x4C, 0x24, 0x10], mode: .bits64, text: "mov %r9d,0x10(%r12)", expected: ins(.store, 4, reg: 9, len: 5)),
        Case(bytes: [0x4F, 0x8B, 0xBC, 0xF5, 0x78, 0x56, 0x34, 0x12], mode: .bits64, text: "mov 0x12345678(%r13,%r14,8),%r15", expected: ins(.load, 8, reg: 15, len: 8)),
        Case(bytes: [0x0F, 0xB6, 0x07], mode: .bits64, text: "movzbl (%rdi),%eax", expected: ins(.load, 1, reg: 0, regSize: 4, ext: .zero, len: 3)),
        Case(bytes: [0x44, 0x0F, 0xB7, 0x57, 0x04], mode: .bits64, text: "movzwl 0x4(%rdi),%r10d", expected: ins(.load, 2, reg: 10, regSize: 4, ext: .zero, len: 5)),
        Case(bytes: [0x48, 0x0F, 0xBE, 0x0F], mode: .bits64, text: "movsbq (%rdi),%rcx", expected: ins(.load, 1, reg: 1, regSize: 8, ext: .sign, len: 4)),
        Case(bytes: [0x0F, 0xBF, 0x02], mode: .bits64, text: "movswl (%rdx),%eax", expected: ins(.load, 2, reg: 0, regSize: 4, ext: .sign, len: 3)),
        Case(bytes: [0x66, 0x0F, 0xB6, 0x07], mode: .bits64, text: "movzbw (%rdi),%ax", expected: ins(.load, 1, reg: 0, regSize: 2, ext: .zero, len: 4)),
        Case(bytes: [0xC6, 0x07, 0xAB], mode: .bits64, text: "movb $0xab,(%rdi)", expected: ins(.storeImmediate, 1, reg: 0, imm: 0xAB, len: 3)),
        Case(bytes: [0x66, 0xC7, 0x07, 0x34, 0x12], mode: .bits64, text: "movw $0x1234,(%rdi)", expected: ins(.storeImmediate, 2, reg: 0, imm: 0x1234, len: 5)),
        Case(bytes: [0x48, 0xC7, 0x47, 0x08, 0xFE, 0xFF, 0xFF, 0xFF], mode: .bits64, text: "movq $-2,0x8(%rdi)", expected: ins(.storeImmediate, 8, reg: 0, imm: 0xFFFF_FFFF_FFFF_FFFE, len: 8)),
        Case(bytes: [0xA1, 0x30, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00], mode: .bits64, text: "movabs 0xfee00030,%eax", expected: ins(.load, 4, reg: 0, len: 9)),
        Case(bytes: [0xA2, 0x00, 0x00, 0xC0, 0xFE, 0x00, 0x00, 0x00, 0x00], mode: .bits64, text: "movabs %al,0xfec00000", expected: ins(.store, 1, reg: 0, len: 9)),
        Case(bytes: [0x48, 0xA1, 0x30, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00], mode: .bits64, text: "movabs 0xfee00030,%rax", expected: ins(.load, 8, reg: 0, len: 10)),
        Case(bytes: [0x85, 0x07], mode: .bits64, text: "test %eax,(%rdi)", expected: ins(.test, 4, reg: 0, len: 2)),
        Case(bytes: [0x84, 0x27], mode: .bits64, text: "test %ah,(%rdi)", expected: ins(.test, 1, reg: 0, high: true, len: 2)),
        Case(bytes: [0x09, 0x07], mode: .bits64, text: "or %eax,(%rdi)", expected: ins(.or, 4, reg: 0, memDest: true, len: 2)),
        Case(bytes: [0x0B, 0x07], mode: .bits64, text: "or (%rdi),%eax", expected: ins(.or, 4, reg: 0, len: 2)),
        Case(bytes: [0x21, 0x0F], mode: .bits64, text: "and %ecx,(%rdi)", expected: ins(.and, 4, reg: 1, memDest: true, len: 2)),
        Case(bytes: [0x44, 0x23, 0x07], mode: .bits64, text: "and (%rdi),%r8d", expected: ins(.and, 4, reg: 8, len: 3)),
        Case(bytes: [0x87, 0xB7, 0x00, 0xD0, 0x5F, 0xFF], mode: .bits64, text: "xchg %esi,-0xa03000(%rdi) (11AP alternative)", expected: ins(.exchange, 4, reg: 6, len: 6)),
        Case(bytes: [0x8B, 0x05, 0x10, 0x00, 0x00, 0x00], mode: .bits64, text: "mov 0x10(%rip),%eax", expected: ins(.load, 4, reg: 0, len: 6)),
        Case(bytes: [0x64, 0xF0, 0x09, 0x07], mode: .bits64, text: "lock or %eax,%fs:(%rdi)", expected: ins(.or, 4, reg: 0, memDest: true, len: 4)),
        Case(bytes: [0x8A, 0x27], mode: .bits64, text: "mov (%rdi),%ah", expected: ins(.load, 1, reg: 0, high: true, len: 2)),
        Case(bytes: [0x40, 0x8A, 0x27], mode: .bits64, text: "mov (%rdi),%spl", expected: ins(.load, 1, reg: 4, len: 3)),
        Case(bytes: [0x8B, 0x44, 0x24, 0x20], mode: .bits64, text: "mov 0x20(%rsp),%eax", expected: ins(.load, 4, reg: 0, len: 4)),
        Case(bytes: [0x8B, 0x45, 0x00], mode: .bits64, text: "mov 0x0(%rbp),%eax", expected: ins(.load, 4, reg: 0, len: 3)),
        Case(bytes: [0x41, 0x8B, 0x45, 0x00], mode: .bits64, text: "mov 0x0(%r13),%eax", expected: ins(.load, 4, reg: 0, len: 4)),
        Case(bytes: [0x89, 0x04, 0x9D, 0x00, 0x00, 0x00, 0x00], mode: .bits64, text: "mov %eax,0x0(,%rbx,4)", expected: ins(.store, 4, reg: 0, len: 7)),
        // 32-bit code.
        Case(bytes: [0xA1, 0x30, 0x00, 0xE0, 0xFE], mode: .bits32, text: "mov 0xfee00030,%eax", expected: ins(.load, 4, reg: 0, len: 5)),
        Case(bytes: [0xA3, 0xB0, 0x00, 0xE0, 0xFE], mode: .bits32, text: "mov %eax,0xfee000b0", expected: ins(.store, 4, reg: 0, len: 5)),
        Case(bytes: [0x8B, 0x50, 0x10], mode: .bits32, text: "mov 0x10(%eax),%edx", expected: ins(.load, 4, reg: 2, len: 3)),
        Case(bytes: [0x66, 0x89, 0x03], mode: .bits32, text: "mov %ax,(%ebx)", expected: ins(.store, 2, reg: 0, len: 3)),
        Case(bytes: [0xC7, 0x05, 0x00, 0x00, 0xC0, 0xFE, 0x01, 0x00, 0x00, 0x00], mode: .bits32, text: "movl $0x1,0xfec00000", expected: ins(.storeImmediate, 4, reg: 0, imm: 1, len: 10)),
        Case(bytes: [0x67, 0x8B, 0x00], mode: .bits32, text: "mov (%bx,%si),%eax", expected: ins(.load, 4, reg: 0, len: 3)),
        // 16-bit code.
        Case(bytes: [0x8B, 0x07], mode: .bits16, text: "mov (%bx),%ax", expected: ins(.load, 2, reg: 0, len: 2)),
        Case(bytes: [0x66, 0xA3, 0x34, 0x12], mode: .bits16, text: "mov %eax,0x1234", expected: ins(.store, 4, reg: 0, len: 4)),
        Case(bytes: [0x8B, 0x4B, 0x10], mode: .bits16, text: "mov 0x10(%bp,%di),%cx", expected: ins(.load, 2, reg: 1, len: 3)),
        Case(bytes: [0xC7, 0x44, 0x08, 0x78, 0x56], mode: .bits16, text: "movw $0x5678,0x8(%si)", expected: ins(.storeImmediate, 2, reg: 0, imm: 0x5678, len: 5)),
        Case(bytes: [0xA3, 0x00, 0x20], mode: .bits16, text: "mov %ax,0x2000", expected: ins(.store, 2, reg: 0, len: 3)),
        Case(bytes: [0x67, 0x66, 0x8B, 0x80, 0x78, 0x56, 0x34, 0x12], mode: .bits16, text: "mov 0x12345678(%eax),%eax", expected: ins(.load, 4, reg: 0, len: 8)),
    ]

    func decode(_ bytes: [UInt8], _ mode: MMIOCodeSize) -> MMIODecoding {
        bytes.withUnsafeBytes { MMIOInstructionDecoder.decode($0, mode: mode) }
    }

    /// The decoding with its operand address left out (the table's expectations do not give it).
    func decodeWithoutOperand(_ bytes: [UInt8], _ mode: MMIOCodeSize) -> MMIODecoding {
        guard case .decoded(var insn) = decode(bytes, mode) else { return decode(bytes, mode) }
        insn.operand = MMIOOperandAddress(addressSize: 8)
        return .decoded(insn)
    }

    func testTableOfRealEncodings() {
        for c in MMIOInstructionTests.table {
            XCTAssertEqual(decodeWithoutOperand(c.bytes, c.mode), .decoded(c.expected), c.text)
            // The decoder reads no further than the instruction: trailing bytes change nothing,
            // and any shorter prefix of it is incomplete.
            XCTAssertEqual(decodeWithoutOperand(c.bytes + [0x90, 0x0F, 0xFF], c.mode), .decoded(c.expected), c.text + " + trailing bytes")
            for n in 0..<c.bytes.count {
                XCTAssertEqual(decode(Array(c.bytes[0..<n]), c.mode), .incomplete, c.text + " cut to \(n) bytes")
            }
        }
    }

    /// The operand's address: base, index, scale, displacement, RIP-relative, segment and address
    /// size, from the same kind of real encodings.
    func testOperandAddresses() {
        typealias A = MMIOOperandAddress
        let none = A.none
        let cases: [([UInt8], MMIOCodeSize, String, A)] = [
            ([0x8B, 0x87, 0x00, 0xD0, 0x5F, 0xFF], .bits64, "mov -0xa03000(%rdi),%eax",
             A(base: 7, displacement: 0xFFFF_FFFF_FF5F_D000, addressSize: 8)),
            ([0x89, 0x3C, 0x25, 0x10, 0xD3, 0x5F, 0xFF], .bits64, "mov %edi,0xffffffffff5fd310",
             A(displacement: 0xFFFF_FFFF_FF5F_D310, addressSize: 8)),
            ([0x48, 0x89, 0x04, 0x25, 0xFC, 0xFF, 0x7F, 0x00], .bits64, "mov %rax,0x7ffffc",
             A(displacement: 0x7F_FFFC, addressSize: 8)),
            ([0x45, 0x89, 0x4C, 0x24, 0x10], .bits64, "mov %r9d,0x10(%r12)",
             A(base: 12, displacement: 0x10, addressSize: 8)),
            ([0x4F, 0x8B, 0xBC, 0xF5, 0x78, 0x56, 0x34, 0x12], .bits64, "mov 0x12345678(%r13,%r14,8),%r15",
             A(base: 13, index: 14, scale: 3, displacement: 0x1234_5678, addressSize: 8)),
            ([0x42, 0x8B, 0x04, 0x20], .bits64, "mov (%rax,%r12,1),%eax (index 4 with REX.X is R12)",
             A(base: 0, index: 12, addressSize: 8)),
            ([0x89, 0x04, 0x9D, 0x00, 0x00, 0x00, 0x00], .bits64, "mov %eax,0x0(,%rbx,4)",
             A(index: 3, scale: 2, addressSize: 8)),
            ([0x8B, 0x44, 0x24, 0xF0], .bits64, "mov -0x10(%rsp),%eax",
             A(base: 4, displacement: 0xFFFF_FFFF_FFFF_FFF0, segment: .ss, addressSize: 8)),
            ([0x8B, 0x05, 0x10, 0x00, 0x00, 0x00], .bits64, "mov 0x10(%rip),%eax",
             A(displacement: 0x10, ripRelative: true, addressSize: 8)),
            ([0x67, 0x8B, 0x07], .bits64, "mov (%edi),%eax", A(base: 7, addressSize: 4)),
            ([0x64, 0xF0, 0x09, 0x07], .bits64, "lock or %eax,%fs:(%rdi)", A(base: 7, segment: .fs, addressSize: 8)),
            ([0x65, 0x89, 0x86, 0x14, 0x00, 0x00, 0x00], .bits64, "mov %eax,%gs:0x14(%rsi)",
             A(base: 6, displacement: 0x14, segment: .gs, addressSize: 8)),
            ([0x3E, 0x8B, 0x45, 0x00], .bits64, "mov %ds:0x0(%rbp),%eax", A(base: 5, segment: .ds, addressSize: 8)),
            ([0xA1, 0x30, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00], .bits64, "movabs 0xfee00030,%eax",
             A(displacement: 0xFEE0_0030, addressSize: 8)),
            ([0x65, 0xA3, 0xF0, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00], .bits64, "movabs %eax,%gs:0xfee000f0",
             A(displacement: 0xFEE0_00F0, segment: .gs, addressSize: 8)),
            ([0xC7, 0x05, 0x00, 0x00, 0xC0, 0xFE, 0x01, 0x00, 0x00, 0x00], .bits32, "movl $0x1,0xfec00000",
             A(displacement: 0xFFFF_FFFF_FEC0_0000, addressSize: 4)),
            ([0x8B, 0x50, 0x10], .bits32, "mov 0x10(%eax),%edx", A(base: 0, displacement: 0x10, addressSize: 4)),
            ([0x67, 0x8B, 0x00], .bits32, "mov (%bx,%si),%eax", A(base: 3, index: 6, addressSize: 2)),
            ([0x8B, 0x4B, 0x10], .bits16, "mov 0x10(%bp,%di),%cx", A(base: 5, index: 7, displacement: 0x10, segment: .ss, addressSize: 2)),
            ([0xC7, 0x44, 0xF8, 0x78, 0x56], .bits16, "movw $0x5678,-0x8(%si)",
             A(base: 6, displacement: 0xFFFF_FFFF_FFFF_FFF8, addressSize: 2)),
            ([0x26, 0xA3, 0x00, 0x20], .bits16, "mov %ax,%es:0x2000", A(displacement: 0x2000, segment: .es, addressSize: 2)),
            ([0x8B, 0x06, 0x34, 0x12], .bits16, "mov 0x1234,%ax", A(displacement: 0x1234, addressSize: 2)),
            ([0x8B, 0x46, 0x02], .bits16, "mov 0x2(%bp),%ax", A(base: 5, displacement: 2, segment: .ss, addressSize: 2)),
        ]
        for (bytes, mode, text, expected) in cases {
            XCTAssertEqual(MMIOTestSupport.instruction(bytes, mode).operand, expected, text)
        }
        XCTAssertEqual(none, 0xFF)
    }

    func testEffectiveAddresses() {
        let sib = MMIOOperandAddress(base: 13, index: 14, scale: 3, displacement: 0xFFFF_FFFF_FFFF_FFF0, addressSize: 8)
        XCTAssertEqual(sib.effectiveAddress(baseValue: 0x1000, indexValue: 2, nextRIP: 0x7000), 0x1000 + 16 - 16)
        let rip = MMIOOperandAddress(displacement: 0x10, ripRelative: true, addressSize: 8)
        XCTAssertEqual(rip.effectiveAddress(baseValue: 0xDEAD, indexValue: 0xBEEF, nextRIP: 0x7006), 0x7016, "no base, no index")
        let bp = MMIOOperandAddress(base: 5, index: 7, displacement: 0x10, segment: .ss, addressSize: 2)
        XCTAssertEqual(bp.effectiveAddress(baseValue: 0x1_FFF0, indexValue: 0x8, nextRIP: 0), 0x0008, "16-bit addresses wrap at 64 KiB")
        let edi = MMIOOperandAddress(base: 7, displacement: 0xFFFF_FFFF_FFFF_FFFC, addressSize: 4)
        XCTAssertEqual(edi.effectiveAddress(baseValue: 0x1_0000_0002, indexValue: 0, nextRIP: 0), 0xFFFF_FFFE, "32-bit addresses wrap at 4 GiB")
    }

    func testUnsupported() {
        XCTAssertEqual(decode([0xF3, 0xA5], .bits64), .unsupported(opcode: 0xA5), "rep movsl")
        XCTAssertEqual(decode([0x0F, 0xAE, 0x38], .bits64), .unsupported(opcode: 0x0FAE), "clflush")
        XCTAssertEqual(decode([0x89, 0xC0], .bits64), .unsupported(opcode: 0x89), "register-to-register MOV touches no memory")
        XCTAssertEqual(decode([0xC7, 0x0F, 0, 0, 0, 0], .bits64), .unsupported(opcode: 0xC7), "C7 /1 is not MOV")
        XCTAssertEqual(decode([0x40], .bits32), .unsupported(opcode: 0x40), "0x40 is INC outside 64-bit mode")
        XCTAssertEqual(decode([], .bits64), .incomplete)
        XCTAssertEqual(decode([UInt8](repeating: 0x66, count: 14) + [0x8B, 0x07], .bits64), .incomplete, "over 15 bytes")
        XCTAssertEqual(decode([UInt8](repeating: 0x66, count: 13) + [0x8B, 0x07], .bits64),
                       .decoded(MMIOTestSupport.load2(len: 15)), "exactly 15 bytes")
    }

    func testREXBeforeALegacyPrefixIsIgnored() {
        // REX.W then 66: the REX is not adjacent to the opcode, so it does not count.
        XCTAssertEqual(decode([0x48, 0x66, 0x8B, 0x07], .bits64), .decoded(MMIOTestSupport.load2(len: 4)))
    }

    func testRegisterWrites() {
        let movl = MMIOTestSupport.instruction([0x8B, 0x07], .bits64)
        XCTAssertEqual(movl.loadedRegister(old: 0xFFFF_FFFF_FFFF_FFFF, memoryValue: 0x1234_5678), 0x1234_5678, "32-bit writes zero 63:32")
        let movw = MMIOTestSupport.instruction([0x66, 0x8B, 0x07], .bits64)
        XCTAssertEqual(movw.loadedRegister(old: 0xAAAA_AAAA_AAAA_AAAA, memoryValue: 0x1234), 0xAAAA_AAAA_AAAA_1234)
        let movah = MMIOTestSupport.instruction([0x8A, 0x27], .bits64)
        XCTAssertEqual(movah.loadedRegister(old: 0x1111_2222, memoryValue: 0xAB), 0x1111_AB22)
        XCTAssertEqual(movah.registerOperand(0x1111_AB22), 0xAB)
        let movsbq = MMIOTestSupport.instruction([0x48, 0x0F, 0xBE, 0x0F], .bits64)
        XCTAssertEqual(movsbq.loadedRegister(old: 0, memoryValue: 0x80), 0xFFFF_FFFF_FFFF_FF80)
        let movswl = MMIOTestSupport.instruction([0x0F, 0xBF, 0x02], .bits64)
        XCTAssertEqual(movswl.loadedRegister(old: 0xFFFF_FFFF_0000_0000, memoryValue: 0x8001), 0x0000_0000_FFFF_8001)
        let movzbw = MMIOTestSupport.instruction([0x66, 0x0F, 0xB6, 0x07], .bits64)
        XCTAssertEqual(movzbw.loadedRegister(old: 0xFFFF_FFFF, memoryValue: 0xFF), 0xFFFF_00FF)
        let writeb = MMIOTestSupport.instruction([0x40, 0x88, 0x37], .bits64)
        XCTAssertEqual(writeb.registerOperand(0x1234_5678_9ABC_DEF0), 0xF0)
    }

    func testLogicFlags() {
        XCTAssertEqual(MMIOInstruction.logicFlags(rflags: 0x2 | 1 | 1 << 11, result: 0, size: 4), 0x2 | 1 << 6 | 1 << 2, "ZF, PF; CF and OF cleared")
        XCTAssertEqual(MMIOInstruction.logicFlags(rflags: 0x2, result: 0x8000_0001, size: 4), 0x2 | 1 << 7, "SF; odd parity")
        XCTAssertEqual(MMIOInstruction.logicFlags(rflags: 0x2, result: 0x1_0003, size: 2), 0x2 | 1 << 2, "only the operand's bytes count")
    }
}

enum MMIOTestSupport {
    static func load2(len: Int) -> MMIOInstruction {
        MMIOInstruction(kind: .load, size: 2, register: 0, registerSize: 2, length: len,
                        operand: MMIOOperandAddress(base: 7, addressSize: 8))             // (%rdi)
    }
    static func instruction(_ bytes: [UInt8], _ mode: MMIOCodeSize) -> MMIOInstruction {
        guard case let .decoded(i) = bytes.withUnsafeBytes({ MMIOInstructionDecoder.decode($0, mode: mode) }) else {
            XCTFail("\(bytes) did not decode")
            return MMIOInstruction(kind: .load, size: 0, register: 0, registerSize: 0, length: 0)
        }
        return i
    }
}
