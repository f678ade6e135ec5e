// What the shadow page tables need from the host: a pointer to a host frame's 512 entries, and
// the host frame behind a guest-physical page. The kernel's conformer reaches frames through its
// identity map and the VM's RAM block; the unit tests' is a buffer. Generic, not an existential,
// so the exit path is specialized to plain loads and stores.
public protocol ShadowFrameMemory {
    /// The 512 64-bit entries of the 4 KiB host frame at host-physical `frame`.
    func entries(ofFrame frame: UInt64) -> UnsafeMutablePointer<UInt64>
    /// The host-physical frame of the guest-physical page `gpa` (4 KiB aligned), or nil when the
    /// page is not the VM's RAM (device pages and everything past RAM are never mapped).
    func hostFrame(ofGuestPage gpa: UInt64) -> UInt64?
}
