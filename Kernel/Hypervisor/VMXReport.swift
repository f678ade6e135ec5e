// Prints the VMX capability MSRs of this CPU (SDM Vol. 3D Appendix A).
enum VMXReport {
    static func printCapabilities() {
        print("IA32_FEATURE_CONTROL \(hex(rdmsr(0x3A)))")
        print("IA32_VMX_BASIC \(hex(rdmsr(0x480)))")
    }
}
