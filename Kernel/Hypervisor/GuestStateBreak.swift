import X86
import VTx

// Spoiling a guest state on purpose, for the boot tests that check failed VM entries are reported
// by name (the checks themselves: Sources/VMX/GuestStateCheck.swift).

enum GuestStateBreak {
    /// break=WHAT on a guest's module line: spoil one thing on purpose, so the tests
    /// can see a failed VM entry reported by name.
    static func breakDeliberately(_ what: Substring) {
        switch what {
        case "cs-long-and-big":      // invalid guest state: exit reason 33
            let cs = (try? VMXInstruction.vmread(.guestCSAccessRights)) ?? 0
            try? VMXInstruction.vmwrite(.guestCSAccessRights, cs | (1 << 13) | (1 << 14))
        case "link-pointer":         // invalid guest state: exit reason 33
            try? VMXInstruction.vmwrite(.vmcsLinkPointer, 0)
        case "host-tr":              // invalid host state: VMfailValid, error 8
            try? VMXInstruction.vmwrite(.hostTRSelector, 0)
        default:
            print("swiftvisor: unknown break=\(what) (cs-long-and-big, link-pointer, host-tr)")
        }
    }
}
