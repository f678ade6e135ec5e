// Physical memory in 4 KiB frames: a bitmap over everything below `limit`
// (the kernel identity-maps the first 4 GiB, so frames above it are not used).
//
// Built from the loader's memory map: only "available" regions become free, and
// the first megabyte (BIOS data, real-mode IVT), the kernel image (with its heap
// and stacks, which live in .bss), the boot information and the boot modules
// are taken out before anything is handed out.
//
// Ownership: between `beginOwnership()` and `endOwnership()` every allocation is
// also recorded in one list, whichever code made it (a VM's RAM, EPT tables,
// bitmaps, VMCS, FPU area), so the owner gives back all of it with one
// `free(_:)`, on success at its end and on any failure half-way through.

struct FrameAllocator {
    static let frameSize: UInt64 = 4096
    static let limit: UInt64 = 4 << 30

    private var bitmap: UnsafeMutablePointer<UInt64>    // bit set = frame in use
    private var frameCount: Int
    private(set) var freeFrames = 0
    private var searchHint = 0
    /// The frames handed out since `beginOwnership()`: (address, count), in order.
    private var ownership: [(UInt64, Int)]? = nil

    init(memoryMap: [MemoryRegion], reserved: [(start: UInt64, end: UInt64)]) {
        var top: UInt64 = 0
        for region in memoryMap where region.isAvailable { top = max(top, min(region.end, Self.limit)) }
        frameCount = Int(top / Self.frameSize)
        let words = (frameCount + 63) / 64
        bitmap = UnsafeMutablePointer<UInt64>.allocate(capacity: max(words, 1))
        bitmap.initialize(repeating: ~0, count: max(words, 1))
        for region in memoryMap where region.isAvailable {
            // Only whole frames inside the region.
            let first = (region.base + Self.frameSize - 1) / Self.frameSize
            let last = min(region.end, Self.limit) / Self.frameSize
            if first < last { mark(Int(first)..<Int(last), used: false) }
        }
        mark(0..<Int(min(UInt64(frameCount), (1 << 20) / Self.frameSize)), used: true)
        for range in reserved { reserve(start: range.start, end: range.end) }
    }

    /// Take [start, end) out of the free pool (rounded out to whole frames).
    mutating func reserve(start: UInt64, end: UInt64) {
        guard end > start else { return }
        let first = Int(min(start / Self.frameSize, UInt64(frameCount)))
        let last = Int(min((end + Self.frameSize - 1) / Self.frameSize, UInt64(frameCount)))
        if first < last { mark(first..<last, used: true) }
    }

    /// `count` contiguous zeroed frames whose first frame is aligned to `alignment` bytes.
    mutating func allocate(count: Int = 1, alignment: UInt64 = frameSize) -> UInt64? {
        let step = max(1, Int(alignment / Self.frameSize))
        var start = ((searchHint + step - 1) / step) * step
        var wrapped = false
        while true {
            if start + count > frameCount {
                if wrapped || searchHint == 0 { return nil }
                wrapped = true
                start = 0
                continue
            }
            if let busy = firstUsed(in: start..<(start + count)) {
                start = ((busy + 1 + step - 1) / step) * step
                continue
            }
            mark(start..<(start + count), used: true)
            if step == 1 { searchHint = start + count }
            let address = UInt64(start) * Self.frameSize
            _ = memset(physicalPointer(address), 0, count * Int(Self.frameSize))
            ownership?.append((address, count))
            return address
        }
    }

    mutating func free(_ address: UInt64, count: Int = 1) {
        let first = Int(address / Self.frameSize)
        mark(first..<(first + count), used: false)
        searchHint = min(searchHint, first)
        ownership?.removeAll { $0.0 == address && $0.1 == count }
    }

    /// Everything allocated from now on is recorded until `endOwnership()` (one owner at a time).
    mutating func beginOwnership() {
        precondition(ownership == nil, "frame ownership already being recorded")
        ownership = []
    }

    /// What was allocated since `beginOwnership()`; recording stops.
    mutating func endOwnership() -> [(UInt64, Int)] {
        defer { ownership = nil }
        return ownership ?? []
    }

    /// Gives back every (address, count) of an owner's list.
    mutating func free(_ owned: [(UInt64, Int)]) {
        for (address, count) in owned { free(address, count: count) }
    }

    func isUsed(_ frame: Int) -> Bool { bitmap[frame / 64] & (1 << UInt64(frame % 64)) != 0 }

    private func firstUsed(in range: Range<Int>) -> Int? {
        var frame = range.lowerBound
        while frame < range.upperBound {
            if frame % 64 == 0 && frame + 64 <= range.upperBound && bitmap[frame / 64] == 0 { frame += 64; continue }
            if isUsed(frame) { return frame }
            frame += 1
        }
        return nil
    }

    private mutating func mark(_ range: Range<Int>, used: Bool) {
        for frame in range {
            let mask: UInt64 = 1 << UInt64(frame % 64)
            let was = bitmap[frame / 64] & mask != 0
            if used && !was { bitmap[frame / 64] |= mask; freeFrames -= 1 }
            if !used && was { bitmap[frame / 64] &= ~mask; freeFrames += 1 }
        }
    }
}
