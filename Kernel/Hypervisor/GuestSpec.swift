import Machine

// A guest as the boot modules describe it. Module lines (docs/guests.md):
//   NAME [mode=long|protected|real] [mem=MiB] [budget=M] [disk=MiB|host|host:pN|host:START+COUNT] [expect=...]
//        [acpi=on|off] [apic=on|off] [apicv=on|off] [vcpus=N] [break=...] [baseline=yes] [-- KERNEL COMMAND LINE]
//   +initrd NAME        this module is guest NAME's initrd (Linux)
//   +disk NAME [readonly]  this module is guest NAME's disk (in place): virtio-blk with pci=on, else ATA
//   +module NAME ...    this module is a Multiboot module of guest NAME (its string follows)

struct GuestSpec {
    var name: Substring
    var mode: GuestMode = .long
    var memoryMiB: UInt64 = 4
    var budgetMillions: UInt64 = 500
    var scratchDiskMiB: UInt64 = 0
    var expect: Substring = "shutdown"
    var breakState: Substring? = nil
    /// make bench: exits go through the minimal baseline stub while the guest asks for it.
    var baselineExitPath = false
    /// What the guest kernel gets as its own command line (after "--").
    var kernelCommandLine = ""
    var image: UnsafeRawBufferPointer
    var initrd: UnsafeRawBufferPointer? = nil
    var disk: UnsafeMutableRawBufferPointer? = nil
    /// `disk=host…`: a region of the host disk (HostDiskAttachment resolves it into `hostDiskStorage`).
    var hostDisk: HostDiskSelector? = nil
    var hostDiskStorage: HostDiskStorage? = nil
    var modules: [MultibootLoader.Module] = []
    /// Where console keys go while the VM has the focus (`input=keyboard|serial|both`).
    var input = ConsoleInputRoute.both
    /// ACPI tables in the BIOS area and the PM1a/reset ports' power requests (`acpi=on|off`).
    var acpi = true
    /// The APIC interrupt model (`apic=on`): today the I/O APIC's registers at 0xFEC00000,
    /// reached through MMIO exits; the local APIC and the MADT join it as they land (issue 10).
    var apic = false
    /// vCPUs (`vcpus=N`, 1...VirtualPC.maxVCPUs); more than one needs the local APICs (IPIs, INIT-SIPI),
    /// so it turns `apic` on.
    var vcpus = 1
    /// The CPU's APIC virtualization for the xAPIC page where it has it (`apicv=on`, the default),
    /// or every APIC access trapped and emulated (`apicv=off`).
    var apicVirtualization = true
    /// Memory virtualization (`paging=shadow|ept`, issue 12): nil picks EPT where the CPU has it.
    var shadowPaging: Bool? = nil
    /// PCI bus 0 with virtio devices (`pci=on`, implied by `net=on`): the disk is virtio-blk
    /// (`+disk NAME [readonly]`, `disk=MiB`) instead of ATA (VMPCI.swift).
    var pci = false
    /// A virtio-net device on the hypervisor's virtual switch (`net=on`).
    var net = false
    /// The disk is read-only (`+disk NAME readonly`; virtio-blk's VIRTIO_BLK_F_RO).
    var diskReadOnly = false

    enum ParseError: Error {
        case empty, badValue(Substring), unknownArgument(Substring), noSuchGuest(Substring), hostDisk(HostDiskRegionError)
        var description: String {
            switch self {
            case .empty: return "empty module line"
            case .badValue(let word): return "bad module argument '\(word)' (NAME [mode=long|protected|real] [mem=MiB] [budget=M] [disk=MiB] [expect=...] [-- cmdline])"
            case .unknownArgument(let word):
                return "unknown module argument '\(word)' (known: mode= mem= budget= disk= expect= break= baseline= input= acpi= apic= apicv= vcpus= paging= pci= net=, then -- cmdline)"
            case .noSuchGuest(let name): return "an attachment names guest '\(name)', which no earlier module defines"
            case .hostDisk(let error): return error.description
            }
        }
    }

    init(commandLine: String, image: UnsafeRawBufferPointer) throws(ParseError) {
        self.image = image
        var words = commandLine.split(separator: " ")
        guard let first = words.first else { throw .empty }
        // QEMU's Multiboot loader passes the module path first: use its last path component.
        name = first.split(separator: "/").last.map { $0.hasSuffix(".bin") ? $0.dropLast(4) : $0 } ?? first
        if let dashes = words.firstIndex(of: "--") {
            kernelCommandLine = words[words.index(after: dashes)...].joined(separator: " ")
            words = Array(words[..<dashes])
        }
        for word in words.dropFirst() {
            // A misspelled or unknown argument would silently give the guest a default it did not ask for.
            guard let eq = word.firstIndex(of: "=") else { throw .unknownArgument(word) }
            let key = word[word.startIndex..<eq], value = word[word.index(after: eq)...]
            switch key {
            case "mode": guard let m = GuestMode(name: value) else { throw .badValue(word) }; mode = m
            case "mem": guard let v = UInt64(value), v >= 2, v <= 3072 else { throw .badValue(word) }; memoryMiB = (v + 1) & ~1
            case "budget": guard let v = UInt64(value), v > 0 else { throw .badValue(word) }; budgetMillions = v
            case "disk" where HostDiskSelector.namesHostDisk(value):
                do throws(HostDiskRegionError) { hostDisk = try HostDiskSelector(parsing: value) } catch { throw .hostDisk(error) }
            case "disk": guard let v = UInt64(value), v > 0, v <= 1024 else { throw .badValue(word) }; scratchDiskMiB = v
            case "expect": expect = value
            case "break": breakState = value
            case "baseline": baselineExitPath = value == "yes"
            case "input": guard let r = ConsoleInputRoute(name: value) else { throw .badValue(word) }; input = r
            case "acpi": guard value == "on" || value == "off" else { throw .badValue(word) }; acpi = value == "on"
            case "apic": guard value == "on" || value == "off" else { throw .badValue(word) }; apic = value == "on"
            case "pci": guard value == "on" || value == "off" else { throw .badValue(word) }; pci = value == "on"
            case "net": guard value == "on" || value == "off" else { throw .badValue(word) }; net = value == "on"
            case "apicv":
                guard value == "on" || value == "off" else { throw .badValue(word) }
                apicVirtualization = value == "on"
            case "vcpus":
                guard let v = Int(value), v >= 1, v <= GuestPC.maxVCPUs else { throw .badValue(word) }
                vcpus = v
            case "paging": guard value == "shadow" || value == "ept" else { throw .badValue(word) }; shadowPaging = value == "shadow"
            default: throw .unknownArgument(word)
            }
        }
        if vcpus > 1 { apic = true }
        if net { pci = true }
    }

    /// Turns the boot modules into guests, attaching +initrd/+disk/+module lines to theirs.
    static func fromModules(_ modules: [BootModule], frames: inout FrameAllocator) -> (guests: [GuestSpec], errors: [String]) {
        var guests: [GuestSpec] = [], errors: [String] = []
        for module in modules {
            let bytes = UnsafeMutableRawBufferPointer(start: physicalPointer(module.start), count: Int(module.size))
            let words = module.commandLine.split(separator: " ")
            if let first = words.first, first.hasPrefix("+"), words.count >= 2 {
                guard let index = guests.lastIndex(where: { $0.name == words[1] }) else {
                    errors.append(ParseError.noSuchGuest(words[1]).description)
                    continue
                }
                switch first {
                case "+initrd": guests[index].initrd = UnsafeRawBufferPointer(bytes)
                case "+disk":
                    // A refused option leaves the guest without this disk (never a writable one by mistake).
                    var readOnly = false, refused = false
                    for option in words.dropFirst(2) {
                        if option == "readonly" && guests[index].pci { readOnly = true }
                        else if option == "readonly" {
                            errors.append("+disk \(words[1]) readonly: only a virtio-blk disk (pci=on) can be read-only")
                            refused = true
                        } else {
                            errors.append("unknown +disk option '\(option)' (readonly)")
                            refused = true
                        }
                    }
                    if !refused {
                        guests[index].disk = bytes
                        guests[index].diskReadOnly = readOnly
                    }
                case "+module":
                    guests[index].modules.append(MultibootLoader.Module(image: UnsafeRawBufferPointer(bytes),
                                                                        string: words.dropFirst(2).joined(separator: " ")))
                default: errors.append("unknown attachment '\(first)' (+initrd, +disk, +module)")
                }
                continue
            }
            do {
                guests.append(try GuestSpec(commandLine: module.commandLine, image: UnsafeRawBufferPointer(bytes)))
            } catch {
                errors.append("\"\(module.commandLine)\": \(error.description)")
            }
        }
        HostDiskAttachment.attach(&guests, errors: &errors, frames: &frames)
        return (guests, errors)
    }
}
