import VTx

// One VMCS per virtual CPU, with the SDM's state machine (Vol. 3C §25.1, Figure 25-1):
//   VMCLEAR            -> clear (and not current)
//   VMPTRLD            -> current (launch state unchanged)
//   VMLAUNCH (success) -> launched; only VMRESUME may enter it from now on
//   VMCLEAR again      -> clear
// VMLAUNCH on a launched VMCS fails with VM-instruction error 4, VMRESUME on a
// clear one with error 5; tracking the state here means we never ask for either.

struct VMCS {
    enum LaunchState { case clear, launched }

    /// Physical address of the 4 KiB VMCS region.
    let region: UInt64
    private(set) var launchState = LaunchState.clear
    private(set) var isCurrent = false

    /// A fresh region stamped with the revision identifier (SDM §25.2: bits 30:0 of
    /// the first dword; bit 31 clear = not a shadow VMCS), then VMCLEARed.
    init(region: UInt64, revision: UInt32) throws(VMXError) {
        self.region = region
        physicalPointer(region).storeBytes(of: revision & 0x7FFF_FFFF, as: UInt32.self)
        try VMXInstruction.vmclear(region)
    }

    mutating func clear() throws(VMXError) {
        try VMXInstruction.vmclear(region)
        launchState = .clear
        isCurrent = false
    }

    mutating func makeCurrent() throws(VMXError) {
        try VMXInstruction.vmptrld(region)
        isCurrent = true
    }

    /// Record a successful VMLAUNCH.
    mutating func markLaunched() { launchState = .launched }

    func read(_ field: VMCSField) throws(VMXError) -> UInt64 {
        precondition(isCurrent, "VMREAD of a VMCS that is not current")
        return try VMXInstruction.vmread(field)
    }

    func write(_ field: VMCSField, _ value: UInt64) throws(VMXError) {
        precondition(isCurrent, "VMWRITE to a VMCS that is not current")
        try VMXInstruction.vmwrite(field, value)
    }
}
