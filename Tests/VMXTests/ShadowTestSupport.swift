import X86
import Machine
@testable import VMX

/// Guest RAM for shadow-paging tests: a zeroed buffer seen through GuestMemory.
final class ShadowTestRAM {
    let pointer: UnsafeMutableRawPointer
    let memory: GuestMemory

    init(size: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        memory = GuestMemory(base: pointer, size: UInt64(size))
    }
    deinit { pointer.deallocate() }

    func put32(_ value: UInt32, _ gpa: UInt64) { memory.store(value, gpa: gpa) }
    func put64(_ value: UInt64, _ gpa: UInt64) { memory.store(value, gpa: gpa) }
    func get32(_ gpa: UInt64) -> UInt32 { memory.load(UInt32.self, gpa: gpa)! }
    func get64(_ gpa: UInt64) -> UInt64 { memory.load(UInt64.self, gpa: gpa)! }
}

/// The host side: `frameCount` pool frames at host-physical 0x10_0000 upwards in a buffer, and
/// guest RAM of `ramBytes` whose page gpa lives at host-physical `ramBase + gpa`.
struct FakeShadowHost: ShadowFrameMemory {
    static let poolBase: UInt64 = 0x10_0000
    static let ramBase: UInt64 = 0x4000_0000
    let frames: UnsafeMutablePointer<UInt64>
    let frameCount: Int
    let ramBytes: UInt64

    func entries(ofFrame frame: UInt64) -> UnsafeMutablePointer<UInt64> {
        let index = Int((frame - Self.poolBase) >> 12)
        precondition(frame & 0xFFF == 0 && index >= 0 && index < frameCount, "not a pool frame")
        return frames + index * 512
    }
    func hostFrame(ofGuestPage gpa: UInt64) -> UInt64? { gpa < ramBytes ? Self.ramBase + gpa : nil }
}

/// What the processor does with a shadow root (SDM Vol. 3A §4.4-§4.7) with CR0.WP = 1, for the
/// tests to run accesses through it: the host-physical address or the #PF error code.
enum ShadowHardware {
    enum Result: Equatable { case ok(UInt64), fault(PageFaultErrorCode) }

    static func access(_ host: FakeShadowHost, root: UInt64, paeFormat: Bool, linear: UInt64, access: PageAccess,
                       nxe: Bool, smep: Bool = false, smap: Bool = false, ac: Bool = false) -> Result {
        var code = PageFaultErrorCode()
        if access.write { code.insert(.write) }
        if access.user { code.insert(.user) }
        if access.instructionFetch && (nxe || smep) { code.insert(.instructionFetch) }
        var table = root
        var level = paeFormat ? 3 : 4
        var writable = true, user = true, executable = true
        while true {
            let index = paeFormat && level == 3 ? Int((linear >> 30) & 3) : Int((linear >> UInt64(12 + 9 * (level - 1))) & 0x1FF)
            let entry = host.entries(ofFrame: table)[index]
            if entry & 1 == 0 { return .fault(code) }
            precondition(entry & 0x80 == 0, "the shadow uses 4 KiB leaves only")
            if !(paeFormat && level == 3) {
                writable = writable && entry & 2 != 0
                user = user && entry & 4 != 0
                executable = executable && entry & (1 << 63) == 0
            } else {
                precondition(entry & 0x1E6 == 0 && entry >> 63 == 0, "reserved bits in a PAE PDPTE")
            }
            if level == 1 {
                var fault = code
                fault.insert(.protectionViolation)
                if access.user && (!user || (access.write && !writable)) { return .fault(fault) }
                if !access.user {
                    if access.write && !writable { return .fault(fault) }
                    if user && access.instructionFetch && smep { return .fault(fault) }
                    if user && !access.instructionFetch && smap && !ac { return .fault(fault) }
                }
                if access.instructionFetch && !executable && nxe { return .fault(fault) }
                return .ok((entry & 0x000F_FFFF_FFFF_F000) | (linear & 0xFFF))
            }
            table = entry & 0x000F_FFFF_FFFF_F000
            level -= 1
        }
    }
}

/// A guest, its RAM, the host and the shadow, and a way to run one access the way a #PF exit would.
final class ShadowRig {
    let ram: ShadowTestRAM
    let host: FakeShadowHost
    var shadow: ShadowPageTables<FakeShadowHost>
    var controls: ShadowGuestControls
    /// #PF exits taken by the last `touch`.
    var exits = 0

    init(ramBytes: Int = 8 << 20, poolFrames: Int = 64, roots: Int = 4, controls: ShadowGuestControls) {
        ram = ShadowTestRAM(size: ramBytes)
        let frames = UnsafeMutablePointer<UInt64>.allocate(capacity: poolFrames * 512)
        frames.initialize(repeating: 0xDEAD_BEEF, count: poolFrames * 512)
        host = FakeShadowHost(frames: frames, frameCount: poolFrames, ramBytes: UInt64(ramBytes))
        shadow = ShadowPageTables(memory: host, rootCapacity: roots)
        for i in 0..<poolFrames { shadow.donate(frame: FakeShadowHost.poolBase + UInt64(i) << 12) }
        self.controls = controls
    }
    deinit { shadow.deallocate(); host.frames.deallocate() }

    @discardableResult
    func activate(cr3: UInt64? = nil) -> ShadowActivation {
        if let cr3 { controls.paging.cr3 = cr3 }
        return shadow.activate(controls, guest: ram.memory)
    }

    var paeFormat: Bool { controls.paging.mode != .level4 }

    /// The shadow's translation of `linear` for `access`, without exits.
    func hardware(_ linear: UInt64, _ access: PageAccess) -> ShadowHardware.Result {
        ShadowHardware.access(host, root: shadow.activeRoot!, paeFormat: paeFormat, linear: linear, access: access,
                              nxe: controls.paging.noExecute, smep: controls.paging.smep, smap: controls.paging.smap,
                              ac: controls.paging.alignmentCheck)
    }

    enum Touch: Equatable { case ok(gpa: UInt64), stop(ShadowFaultOutcome) }

    /// Runs the access as the guest would: a shadow fault exits and is handled; a fixed fault is
    /// retried (and must then work); anything else comes back.
    func touch(_ linear: UInt64, _ access: PageAccess) -> Touch {
        exits = 0
        for _ in 0..<3 {
            switch hardware(linear, access) {
            case .ok(let hpa):
                return .ok(gpa: hpa - FakeShadowHost.ramBase)
            case .fault(let code):
                exits += 1
                precondition(exits <= 2, "a fixed fault faulted again")
                let outcome = shadow.pageFault(linear: linear, errorCode: code, rflagsAC: controls.paging.alignmentCheck,
                                               guest: ram.memory)
                if outcome != .fixed { return .stop(outcome) }
            }
        }
        return .stop(.noShadow)
    }

    /// The shadow leaf for `linear` in the active root, 0 when there is none.
    func leaf(_ linear: UInt64) -> UInt64 {
        var table = shadow.activeRoot!
        var level = paeFormat ? 3 : 4
        while true {
            let index = paeFormat && level == 3 ? Int((linear >> 30) & 3) : Int((linear >> UInt64(12 + 9 * (level - 1))) & 0x1FF)
            let entry = host.entries(ofFrame: table)[index]
            if level == 1 || entry & 1 == 0 { return level == 1 ? entry : 0 }
            table = entry & 0x000F_FFFF_FFFF_F000
            level -= 1
        }
    }

    /// Pool frames not free: the roots and tables in use.
    var framesInUse: Int { shadow.totalFrames - shadow.freeFrames }
}

enum Bits {
    static let pe = CR0.pe.rawValue, pg = CR0.pg.rawValue, wp = CR0.wp.rawValue
    static let pae = CR4.pae.rawValue, pse = CR4.pse.rawValue, pge = CR4.pge.rawValue
    static let smep = CR4.smep.rawValue, smap = CR4.smap.rawValue
    static let lme = EFER.lme.rawValue, lma = EFER.lma.rawValue, nxe = EFER.nxe.rawValue
}

extension PageAccess {
    static let supervisorRead = PageAccess(write: false, user: false)
    static let supervisorWrite = PageAccess(write: true, user: false)
    static let userRead = PageAccess(write: false, user: true)
    static let userWrite = PageAccess(write: true, user: true)
    static let supervisorFetch = PageAccess(write: false, user: false, instructionFetch: true)
    static let userFetch = PageAccess(write: false, user: true, instructionFetch: true)
}
