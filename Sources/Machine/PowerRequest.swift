/// What a guest asked of its machine's power through a device: the engine ends the VM with the
/// matching stop reason (the virtual machine has no firmware to reboot into).
public enum PowerRequest: Equatable, Sendable {
    /// i8042 command 0xFE (or the output port's reset bit).
    case keyboardControllerReset
    /// SLP_TYP = \_S5's value with SLP_EN written to PM1a_CNT (ACPI 6.0 §7.4.2.5).
    case acpiPowerOff
    /// RESET_VALUE written to the FADT's reset register (ACPI 6.0 §4.8.3.6).
    case acpiReset
}
