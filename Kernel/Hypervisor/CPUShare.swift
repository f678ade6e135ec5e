// Fair turns by host wall time: a VM's turn ends at a host-TSC deadline
// whatever the guest does (the exit path checks it on every exit, and the
// VMX-preemption timer is armed from the wall time left), and each VM's share of
// the CPU is accounted per turn and reported at the end.

enum CPUShare {
    /// The longest single turn: the VMX-preemption timer's 32 bits hold any count up to it.
    /// (A longer slice or budget just takes several turns.)
    static let maxTurn: UInt64 = 0xFFFF_FFFF

    /// `millions` × 10^6 ticks, saturating: huge `budget=`/`slice=` values mean "no limit", never a trap.
    static func ticks(millions: UInt64) -> UInt64 {
        let (product, overflow) = millions.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? .max : product
    }

    /// `start + length`, saturating at the end of time.
    @inline(__always)
    static func deadline(_ start: UInt64, plus length: UInt64) -> UInt64 {
        let (sum, overflow) = start.addingReportingOverflow(length)
        return overflow ? .max : sum
    }

    /// A finished turn of `ticks` host TSC ticks.
    static func account(_ vm: UnsafeMutablePointer<VirtualMachine>, turn ticks: UInt64) {
        vm.pointee.cpuTicks &+= ticks
        vm.pointee.turns &+= 1
        vm.pointee.longestTurn = max(vm.pointee.longestTurn, ticks)
    }

    /// "vmx: CPU share: t1 49.8% (1234567 ticks, 12 turns, longest 1003456), ..." for VMs that ran together.
    static func report(_ vms: [UnsafeMutablePointer<VirtualMachine>]) {
        let total = vms.reduce(UInt64(0)) { $0 &+ $1.pointee.cpuTicks }
        guard total > 0 else { return }
        for vm in vms {
            let permille = vm.pointee.cpuTicks.multipliedFullWidth(by: 1000)
            let share = total.dividingFullWidth(permille).quotient
            print("vmx: CPU share: \(vm.pointee.name.string) \(share / 10).\(share % 10)% "
                + "(\(vm.pointee.cpuTicks) ticks in \(vm.pointee.turns) turns, longest turn \(vm.pointee.longestTurn) ticks)")
        }
    }
}
