import VTx

// Prints this CPU's VMX capability MSRs, decoded (SDM Vol. 3D Appendix A).
enum VMXReport {
    static func printCapabilities() {
        let featureControl = rdmsr(0x3A)
        print("IA32_FEATURE_CONTROL \(hex(featureControl)): lock=\(featureControl & 1) vmx-outside-smx=\((featureControl >> 2) & 1)")
        VMXCapabilities(readMSR: { rdmsr($0) }).report { print($0) }
    }
}
