// A guest's module line: `NAME [KEY=VALUE ...] [-- KERNEL COMMAND LINE]`, as GRUB passes it
// with the guest's image. Every key is in `GuestOptionKey` - the one table the parser
// looks keys up in and the usage text is made from - so an error can list all of them and
// a misspelled key is refused rather than giving the guest a default it did not ask for.

/// One module-line key: its name, the values it takes and what it sets.
public enum GuestOptionKey: CaseIterable, Sendable {
    case mode, mem, budget, disk, expect, onReboot, input, acpi, apic, apicv, vcpus, paging, pci, net, breakState, baseline

    public var name: StaticString {
        switch self {
        case .mode: return "mode"
        case .mem: return "mem"
        case .budget: return "budget"
        case .disk: return "disk"
        case .expect: return "expect"
        case .onReboot: return "on_reboot"
        case .input: return "input"
        case .acpi: return "acpi"
        case .apic: return "apic"
        case .apicv: return "apicv"
        case .vcpus: return "vcpus"
        case .paging: return "paging"
        case .pci: return "pci"
        case .net: return "net"
        case .breakState: return "break"
        case .baseline: return "baseline"
        }
    }

    /// The values, as the usage text shows them.
    public var values: StaticString {
        switch self {
        case .mode: return "long|protected|real"
        case .mem: return "MiB (2-3072)"
        case .budget: return "million TSC ticks"
        case .disk: return "MiB|host|host:pN|host:START+COUNT"
        case .expect: return "OUTCOME|end"
        case .onReboot: return "restart|stop"
        case .input: return "keyboard|serial|both"
        case .acpi, .apic, .apicv, .pci, .net: return "on|off"
        case .vcpus: return "1-8"
        case .paging: return "ept|shadow"
        case .breakState: return "STATE"
        case .baseline: return "yes"
        }
    }

    /// The key named `text`, if there is one.
    public init?(named text: Substring) {
        guard let key = Self.allCases.first(where: { Self.equal($0.name, text) }) else { return nil }
        self = key
    }

    static func equal(_ name: StaticString, _ text: Substring) -> Bool {
        let utf8 = text.utf8
        guard name.utf8CodeUnitCount == utf8.count else { return false }
        var index = 0
        for byte in utf8 {
            guard name.utf8Start[index] == byte else { return false }
            index &+= 1
        }
        return true
    }

    /// `NAME [mode=long|protected|real] [mem=MiB (2-3072)] ... [-- KERNEL COMMAND LINE]`.
    public static var usage: String {
        var text = "NAME"
        for key in allCases { text += " [\(key.name)=\(key.values)]" }
        return text + " [-- KERNEL COMMAND LINE]"
    }
}

/// What a guest's module line says about the machine it gets.
public struct GuestOptions: Sendable {
    public var mode: GuestMode = .long
    public var memoryMiB: UInt64 = 4
    public var budgetMillions: UInt64 = 500
    /// `disk=MiB`: a scratch disk in RAM; `disk=host…`: a region of the hypervisor's host disk.
    public var scratchDiskMiB: UInt64 = 0
    public var hostDisk: HostDiskSelector? = nil
    /// The outcome the run counts as the guest's normal end: tests name theirs; `end` (make run)
    /// takes any end the guest or its user chose (`isNormalEnd`).
    public var expect: Substring = "shutdown"
    /// What a reboot the guest asks for (i8042 reset, the ACPI reset register) does: a fresh VM
    /// from the same module line (RAM and devices anew, the same disks, the time budget left), or
    /// the VM's end as `reset`.
    public var onReboot = RebootAction.restart
    /// A guest-state field broken on purpose before the first entry (the checker's tests).
    public var breakState: Substring? = nil
    /// make bench: exits go through the minimal baseline stub while the guest asks for it.
    public var baselineExitPath = false
    /// Where console keys go while the VM has the focus.
    public var input = ConsoleInputRoute.both
    /// ACPI tables in the BIOS area and the PM1a/reset ports' power requests.
    public var acpi = true
    /// The APIC interrupt model: the I/O APIC and a local APIC per vCPU.
    public var apic = false
    /// vCPUs (1...VirtualPC.maxVCPUs); more than one needs the local APICs, so it turns `apic` on.
    public var vcpus = 1
    /// The CPU's APIC virtualization for the xAPIC page where it has it, or every APIC access trapped.
    public var apicVirtualization = true
    /// Memory virtualization: nil picks EPT where the CPU has it.
    public var shadowPaging: Bool? = nil
    /// PCI bus 0 with virtio devices (implied by `net`): the disk is virtio-blk instead of ATA.
    public var pci = false
    /// A virtio-net device on the hypervisor's virtual switch.
    public var net = false

    public init() {}

    /// The ends a user means with `expect=end`: the guest shut down (exit code 0) or powered off,
    /// or the user stopped it from the console. A triple fault, an entry failure, a spent time
    /// budget or a hypervisor error stays a failure.
    public static func isNormalEnd(_ outcome: String) -> Bool {
        outcome == "shutdown" || outcome == "poweroff" || outcome == "console-quit"
    }
}

/// `on_reboot=`: what a guest's reboot does, as Xen's `on_reboot` setting.
public enum RebootAction: Sendable, Equatable {
    case restart, stop
}

/// A module line taken apart: the guest's name, its options and its kernel's command line.
public struct GuestModuleLine: Sendable {
    public var name: Substring
    public var options = GuestOptions()
    /// What the guest kernel gets as its own command line (after "--").
    public var kernelCommandLine = ""

    public enum ParseError: Error, Equatable {
        case empty, badValue(Substring), unknownArgument(Substring), hostDisk(HostDiskRegionError)

        public var description: String {
            switch self {
            case .empty: return "empty module line (\(GuestOptionKey.usage))"
            case .badValue(let word): return "bad module argument '\(word)' (\(GuestOptionKey.usage))"
            case .unknownArgument(let word): return "unknown module argument '\(word)' (\(GuestOptionKey.usage))"
            case .hostDisk(let error): return error.description
            }
        }
    }

    public init(parsing line: Substring) throws(ParseError) {
        var words = line.split(separator: " ")
        guard let first = words.first else { throw .empty }
        // QEMU's Multiboot loader passes the module path first: use its last path component.
        name = first.split(separator: "/").last.map { $0.hasSuffix(".bin") ? $0.dropLast(4) : $0 } ?? first
        if let dashes = words.firstIndex(of: "--") {
            kernelCommandLine = words[words.index(after: dashes)...].joined(separator: " ")
            words = Array(words[..<dashes])
        }
        for word in words.dropFirst() {
            guard let eq = word.firstIndex(of: "="), let key = GuestOptionKey(named: word[word.startIndex..<eq]) else {
                throw .unknownArgument(word)
            }
            try options.set(key, to: word[word.index(after: eq)...], word: word)
        }
        if options.vcpus > 1 { options.apic = true }
        if options.net { options.pci = true }
    }
}

extension GuestOptions {
    mutating func set(_ key: GuestOptionKey, to value: Substring, word: Substring) throws(GuestModuleLine.ParseError) {
        func onOff() throws(GuestModuleLine.ParseError) -> Bool {
            guard value == "on" || value == "off" else { throw .badValue(word) }
            return value == "on"
        }
        switch key {
        case .mode: guard let m = GuestMode(name: value) else { throw .badValue(word) }; mode = m
        case .mem: guard let v = UInt64(value), v >= 2, v <= 3072 else { throw .badValue(word) }; memoryMiB = (v + 1) & ~1
        case .budget: guard let v = UInt64(value), v > 0 else { throw .badValue(word) }; budgetMillions = v
        case .disk where HostDiskSelector.namesHostDisk(value):
            do throws(HostDiskRegionError) { hostDisk = try HostDiskSelector(parsing: value) } catch { throw .hostDisk(error) }
        case .disk: guard let v = UInt64(value), v > 0, v <= 1024 else { throw .badValue(word) }; scratchDiskMiB = v
        case .expect: expect = value
        case .onReboot:
            guard value == "restart" || value == "stop" else { throw .badValue(word) }
            onReboot = value == "restart" ? .restart : .stop
        case .breakState: breakState = value
        case .baseline: baselineExitPath = value == "yes"
        case .input: guard let r = ConsoleInputRoute(name: value) else { throw .badValue(word) }; input = r
        case .acpi: acpi = try onOff()
        case .apic: apic = try onOff()
        case .apicv: apicVirtualization = try onOff()
        case .pci: pci = try onOff()
        case .net: net = try onOff()
        case .vcpus:
            guard let v = Int(value), v >= 1, v <= VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>.maxVCPUs else {
                throw .badValue(word)
            }
            vcpus = v
        case .paging: guard value == "shadow" || value == "ept" else { throw .badValue(word) }; shadowPaging = value == "shadow"
        }
    }
}
