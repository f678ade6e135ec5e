import VTx

// After a failed VM entry: the VMCS fields that decide most entry checks, by SDM name.
enum VMCSDump {
    static let fields: [VMCSField] = [
        .vmInstructionError, .exitReason, .exitQualification,
        .pinBasedControls, .procBasedControls, .procBasedControls2, .vmExitControls, .vmEntryControls,
        .guestCR0, .guestCR3, .guestCR4, .guestIA32EFER, .guestRIP, .guestRSP, .guestRFLAGS,
        .guestCSSelector, .guestCSBase, .guestCSLimit, .guestCSAccessRights,
        .guestSSSelector, .guestSSAccessRights, .guestTRSelector, .guestTRAccessRights, .guestLDTRAccessRights,
        .guestGDTRBase, .guestGDTRLimit, .guestInterruptibilityState, .guestActivityState, .vmcsLinkPointer,
        .hostCR0, .hostCR3, .hostCR4, .hostCSSelector, .hostTRSelector, .hostRIP, .eptPointer,
    ]

    static func print(prefix: String) {
        Swift.print("\(prefix)VMCS dump:")
        for field in fields {
            let value: String
            do { value = hex(try VMXInstruction.vmread(field)) } catch { value = "(unreadable)" }
            Swift.print("\(prefix)  \(padded("\(field.name)", 36)) \(value)")
        }
    }
}
