// swift-tools-version:6.0
// Swiftvisor: the host-testable halves of the hypervisor.
//
// X86, VTx and Machine are written in the Embedded Swift subset: the same sources
// are compiled for the host here (and unit-tested with `swift test`) and, by the
// Makefile, for x86_64-unknown-none-elf into the bare-metal kernel.
import PackageDescription

let package = Package(
    name: "Swiftvisor",
    targets: [
        // Architecture facts: control registers, EFER, RFLAGS, descriptors, paging, MSRs, CPUID.
        .target(name: "X86"),
        // The VT-x architecture: VMCS encodings, controls, exit reasons, qualifications, EPT.
        .target(name: "VTx", dependencies: ["X86"]),
        // The guest-facing machine shared by the bare-metal and hosted engines:
        // devices, guest loaders, the hypercall ABI.
        .target(name: "Machine", dependencies: ["X86"]),
        // The VMX engine's logic: exit handlers, CR/MSR/CPUID/XSETBV policy, vCPU state, against
        // the VMXHardware protocol (the kernel executes VMREAD/VMWRITE, the tests use a fake VMCS).
        .target(name: "VMX", dependencies: ["X86", "VTx", "Machine", "GuestRegisterBlock"]),
        // The guest register block shared by VMEntryExit.S and Swift (a C header with layout checks).
        .target(name: "GuestRegisterBlock"),
        .testTarget(name: "X86Tests", dependencies: ["X86"]),
        .testTarget(name: "VTxTests", dependencies: ["VTx", "X86"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "X86"]),
        .testTarget(name: "VMXTests", dependencies: ["VMX", "VTx", "X86", "Machine"]),
    ]
)
