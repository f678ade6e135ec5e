// One VM's emulated MSRs (MSRPolicyTable's `.emulated` rules): plain values, no allocation,
// so the VM-exit path can use it. A write the real register would refuse gives `false`
// (the caller injects #GP); nothing here ever reaches a hardware MSR.

public struct VirtualMSRFile: Sendable {
    /// Guest TSC = host TSC + this (the VMCS TSC-offset field, SDM Vol. 3C §27.3).
    public var tscOffset: UInt64 = 0
    public var tscAdjust: UInt64 = 0
    public var apicBase: UInt64 = APICBase.defaultAddress | APICBase.bsp
    public var mtrrDefType: UInt64 = 0
    public var miscEnable: UInt64 = MiscEnable.resetValue
    public var pat: UInt64 = PAT.powerOnDefault
    /// IA32_MTRR_PHYSBASE0, PHYSMASK0, ... PHYSMASK7.
    public var mtrrVariable: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                              UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    public var mtrrFixed: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Bits at and above MAXPHYADDR are reserved in address-carrying MSRs.
    public let maxPhysicalAddressBits: Int
    /// MSR_PLATFORM_INFO bits 15:8: maximum non-turbo ratio (in 100 MHz units).
    public let platformRatio: UInt8

    /// IA32_MTRRCAP: 8 variable ranges, fixed ranges, write-combining, no SMRR (SDM Vol. 3A §12.11.1).
    public static let mtrrCap: UInt64 = UInt64(MSRPolicyTable.variableMTRRCount) | 1 << 8 | 1 << 10

    public init(maxPhysicalAddressBits: Int, platformRatio: UInt8) {
        self.maxPhysicalAddressBits = min(max(maxPhysicalAddressBits, 32), 52)
        self.platformRatio = platformRatio
    }

    /// Bits 51:MAXPHYADDR and 63:52.
    @inline(__always)
    var addressReserved: UInt64 { ~((1 << UInt64(maxPhysicalAddressBits)) - 1) }

    /// The value a RDMSR returns; `hostTSC` is the processor's TSC now.
    public func read(_ msr: VirtualMSR, hostTSC: UInt64) -> UInt64 {
        switch msr {
        case .tsc: return hostTSC &+ tscOffset
        case .tscAdjust: return tscAdjust
        case .apicBase: return apicBase
        case .featureControl: return FeatureControl.lock.rawValue      // locked, VMX off (VMX is hidden)
        case .platformID: return 0
        case .platformInfo: return UInt64(platformRatio) << 8
        case .biosSignID: return 0
        case .mtrrCap: return Self.mtrrCap
        case .mtrrDefType: return mtrrDefType
        case .mtrrPhysBase(let n): return variable(2 * n)
        case .mtrrPhysMask(let n): return variable(2 * n + 1)
        case .mtrrFixed(let n): return withUnsafeBytes(of: mtrrFixed) { $0.load(fromByteOffset: 8 * n, as: UInt64.self) }
        case .miscEnable: return miscEnable
        case .mcgCap, .mcgStatus, .debugCtl, .xss: return 0
        case .pat: return pat
        }
    }

    /// Performs a WRMSR; false if the processor would raise #GP(0).
    public mutating func write(_ msr: VirtualMSR, _ value: UInt64, hostTSC: UInt64) -> Bool {
        switch msr {
        case .tsc:
            // Writing the TSC moves TSC_ADJUST by the same amount (SDM Vol. 3B §18.17.3).
            let offset = value &- hostTSC
            tscAdjust &+= offset &- tscOffset
            tscOffset = offset
        case .tscAdjust:
            tscOffset &+= value &- tscAdjust
            tscAdjust = value
        case .apicBase:
            // Bits 7:0, 9 and above MAXPHYADDR reserved; x2APIC mode does not exist here
            // (CPUID.1:ECX.x2APIC = 0); BSP is read-only (SDM Vol. 3A §11.4.4).
            let reserved: UInt64 = 0xFF | 1 << 9 | APICBase.x2apicEnable | addressReserved
            guard value & reserved == 0 else { return false }
            apicBase = (value & ~APICBase.bsp) | (apicBase & APICBase.bsp)
        case .mtrrDefType:
            // Type in 7:0, FE bit 10, E bit 11; the rest reserved (SDM Vol. 3A §12.11.2.1).
            guard value & ~(0xFF | MTRRDefType.fixedEnable | MTRRDefType.enable) == 0,
                  Self.isValidMemoryType(UInt8(value & 0xFF)) else { return false }
            mtrrDefType = value
        case .mtrrPhysBase(let n):
            guard value & (0xF00 | addressReserved) == 0, Self.isValidMemoryType(UInt8(value & 0xFF)) else { return false }
            setVariable(2 * n, value)
        case .mtrrPhysMask(let n):
            guard value & (0x7FF | addressReserved) == 0 else { return false }
            setVariable(2 * n + 1, value)
        case .mtrrFixed(let n):
            for i in 0..<8 where !Self.isValidMemoryType(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) { return false }
            withUnsafeMutableBytes(of: &mtrrFixed) { $0.storeBytes(of: value, toByteOffset: 8 * n, as: UInt64.self) }
        case .miscEnable:
            guard value & ~(MiscEnable.writable | MiscEnable.readOnly) == 0 else { return false }
            miscEnable = (miscEnable & ~MiscEnable.writable) | (value & MiscEnable.writable)
        case .mcgStatus, .debugCtl, .xss:
            return value == 0
        case .biosSignID:
            return true                             // the "load the microcode revision" idiom: accepted, no effect
        case .pat:
            for i in 0..<8 where !Self.isValidPATType(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) { return false }
            pat = value
        case .featureControl, .platformID, .platformInfo, .mtrrCap, .mcgCap:
            return false                            // read-only (FEATURE_CONTROL is locked)
        }
        return true
    }

    @inline(__always)
    func variable(_ i: Int) -> UInt64 {
        withUnsafeBytes(of: mtrrVariable) { $0.load(fromByteOffset: 8 * i, as: UInt64.self) }
    }

    @inline(__always)
    mutating func setVariable(_ i: Int, _ value: UInt64) {
        withUnsafeMutableBytes(of: &mtrrVariable) { $0.storeBytes(of: value, toByteOffset: 8 * i, as: UInt64.self) }
    }

    /// MTRR memory types: UC 0, WC 1, WT 4, WP 5, WB 6 (SDM Vol. 3A Table 12-8).
    @inline(__always)
    public static func isValidMemoryType(_ type: UInt8) -> Bool {
        type == 0 || type == 1 || type == 4 || type == 5 || type == 6
    }

    /// PAT entries also allow UC- (7) (SDM Vol. 3A Table 12-10).
    @inline(__always)
    public static func isValidPATType(_ type: UInt8) -> Bool { isValidMemoryType(type) || type == 7 }
}

/// IA32_MISC_ENABLE (MSR 0x1A0) as guests see it (SDM Vol. 4 Table 2-2).
public enum MiscEnable {
    public static let fastStrings: UInt64 = 1 << 0
    public static let automaticThermalControl: UInt64 = 1 << 3
    public static let performanceMonitoringAvailable: UInt64 = 1 << 7
    public static let btsUnavailable: UInt64 = 1 << 11
    public static let pebsUnavailable: UInt64 = 1 << 12
    public static let enhancedSpeedStep: UInt64 = 1 << 16
    public static let monitorFSM: UInt64 = 1 << 18
    public static let limitCPUIDMaxval: UInt64 = 1 << 22
    public static let xtprMessageDisable: UInt64 = 1 << 23
    public static let xdBitDisable: UInt64 = 1 << 34
    /// Fast strings on; no PMU, BTS or PEBS (hidden from guests).
    public static let resetValue: UInt64 = fastStrings | btsUnavailable | pebsUnavailable
    /// Bits a guest may change (they change only its virtual copy).
    public static let writable: UInt64 = fastStrings | automaticThermalControl | enhancedSpeedStep | monitorFSM
        | limitCPUIDMaxval | xtprMessageDisable | xdBitDisable
    /// Bits that may be written back as read but never change.
    public static let readOnly: UInt64 = performanceMonitoringAvailable | btsUnavailable | pebsUnavailable
}
