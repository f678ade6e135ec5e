// ELF notes (System V gABI "Note Section"): PT_NOTE segments hold a sequence of
//     namesz (4 bytes), descsz (4), type (4), name (namesz bytes, padded to 4), desc (descsz, padded to 4)
// The PVH loader looks for Xen's XEN_ELFNOTE_PHYS32_ENTRY here. Everything comes from an
// untrusted file: every size and offset is checked against the segment and the file.

public enum ELFNotes {
    static let ptNote: UInt32 = 4

    /// The descriptor of the first note named `name` with type `type` in any PT_NOTE segment,
    /// or nil (also for a file whose program headers or notes are malformed).
    public static func find(in bytes: UnsafeRawBufferPointer, name: StaticString, type: UInt32) -> UnsafeRawBufferPointer? {
        let file = ImageBytes(bytes)
        guard file.read(UInt32.self, at: 0) == ELFImage.magic, let classByte = file.read(UInt8.self, at: 4),
              classByte == 1 || classByte == 2 else { return nil }
        let is64 = classByte == 2
        guard let phoff = is64 ? file.read(UInt64.self, at: 32) : file.read(UInt32.self, at: 28).map(UInt64.init),
              let phentsize = file.read(UInt16.self, at: is64 ? 54 : 42),
              let phnum = file.read(UInt16.self, at: is64 ? 56 : 44),
              phentsize >= (is64 ? 56 : 32) else { return nil }
        for index in 0..<UInt64(phnum) {
            let at = phoff &+ index * UInt64(phentsize)
            guard let kind = file.read(UInt32.self, at: at), kind == ptNote else { continue }
            let offset: UInt64?, size: UInt64?
            if is64 {
                offset = file.read(UInt64.self, at: at + 8)
                size = file.read(UInt64.self, at: at + 32)
            } else {
                offset = file.read(UInt32.self, at: at + 4).map(UInt64.init)
                size = file.read(UInt32.self, at: at + 16).map(UInt64.init)
            }
            guard let offset, let size, let segment = file.slice(offset: offset, length: size) else { continue }
            if let found = search(ImageBytes(segment), name: name, type: type) { return found }
        }
        return nil
    }

    private static func search(_ notes: ImageBytes, name: StaticString, type: UInt32) -> UnsafeRawBufferPointer? {
        var at: UInt64 = 0
        let wanted = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        while let nameSize = notes.read(UInt32.self, at: at), let descSize = notes.read(UInt32.self, at: at + 4),
              let noteType = notes.read(UInt32.self, at: at + 8) {
            let nameStart = at + 12
            let descStart = nameStart + ((UInt64(nameSize) + 3) & ~3)
            guard let noteName = notes.slice(offset: nameStart, length: UInt64(nameSize)),
                  let desc = notes.slice(offset: descStart, length: UInt64(descSize)) else { return nil }
            // The name is NUL-terminated: "Xen\0" has namesz 4.
            if noteType == type, nameSize == UInt32(wanted.count) + 1, noteName[wanted.count] == 0,
               zip(noteName, wanted).allSatisfy({ $0 == $1 }) {
                return desc
            }
            at = descStart + ((UInt64(descSize) + 3) & ~3)
        }
        return nil
    }
}
