import Machine

// A guest as the boot modules describe it. Module lines (docs/guests.md):
//   NAME [KEY=VALUE ...] [-- KERNEL COMMAND LINE]   the keys: GuestOptionKey (Sources/Machine/GuestModuleLine.swift)
//   +initrd NAME        this module is guest NAME's initrd (Linux)
//   +disk NAME [readonly]  this module is guest NAME's disk (in place): virtio-blk with pci=on, else ATA
//   +module NAME ...    this module is a Multiboot module of guest NAME (its string follows)

struct GuestSpec {
    var name: Substring
    /// The module line's options (Sources/Machine/GuestModuleLine.swift: the one table of keys).
    var options: GuestOptions
    /// What the guest kernel gets as its own command line (after "--").
    var kernelCommandLine: String
    var image: UnsafeRawBufferPointer
    var initrd: UnsafeRawBufferPointer? = nil
    var disk: UnsafeMutableRawBufferPointer? = nil
    /// `disk=host…`: the region of the host disk HostDiskAttachment resolved `options.hostDisk` into.
    var hostDiskStorage: HostDiskStorage? = nil
    var modules: [MultibootLoader.Module] = []
    /// The disk is read-only (`+disk NAME readonly`; virtio-blk's VIRTIO_BLK_F_RO).
    var diskReadOnly = false
    /// The last byte of its virtio-net MAC (02:53:56:00:00:NN), NN counting the guests with
    /// `net=on` in module order: the same for the VM's whole run, restarts included.
    var macSuffix: UInt8 = 0

    /// An attachment line that names no earlier guest.
    static func noSuchGuest(_ name: Substring) -> String { "an attachment names guest '\(name)', which no earlier module defines" }

    init(commandLine: String, image: UnsafeRawBufferPointer) throws(GuestModuleLine.ParseError) {
        let line = try GuestModuleLine(parsing: commandLine[...])
        name = line.name
        options = line.options
        kernelCommandLine = line.kernelCommandLine
        self.image = image
    }

    /// Turns the boot modules into guests, attaching +initrd/+disk/+module lines to theirs.
    static func fromModules(_ modules: [BootModule], frames: inout FrameAllocator) -> (guests: [GuestSpec], errors: [String]) {
        var guests: [GuestSpec] = [], errors: [String] = []
        for module in modules {
            let bytes = UnsafeMutableRawBufferPointer(start: physicalPointer(module.start), count: Int(module.size))
            let words = module.commandLine.split(separator: " ")
            if let first = words.first, first.hasPrefix("+"), words.count >= 2 {
                guard let index = guests.lastIndex(where: { $0.name == words[1] }) else {
                    errors.append(Self.noSuchGuest(words[1]))
                    continue
                }
                switch first {
                case "+initrd": guests[index].initrd = UnsafeRawBufferPointer(bytes)
                case "+disk":
                    // A refused option leaves the guest without this disk (never a writable one by mistake).
                    var readOnly = false, refused = false
                    for option in words.dropFirst(2) {
                        if option == "readonly" && guests[index].options.pci { readOnly = true }
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
        var suffix: UInt8 = 1
        for index in guests.indices where guests[index].options.net {
            guests[index].macSuffix = suffix
            suffix &+= 1
        }
        return (guests, errors)
    }
}
