// What a virtio device type (network, block) supplies to the PCI transport.
// The transport is generic over it, so a call is direct (never `any`).

public protocol VirtioDeviceModel {
    static var deviceType: VirtioDeviceType { get }
    /// Number of virtqueues (at most `VirtioPCIDevice.maxQueues`).
    static var queueCount: Int { get }
    /// The queue size offered for every queue (a power of two ≤ 256).
    static var queueMaxSize: UInt16 { get }
    /// Device-type feature bits (the transport adds VERSION_1, EVENT_IDX and INDIRECT_DESC).
    var deviceFeatures: UInt64 { get }
    /// Bytes of device-specific configuration (§4.1.4.6).
    var configSize: Int { get }
    func readConfig(offset: Int, size: Int) -> UInt64
    mutating func writeConfig(offset: Int, size: Int, value: UInt64)
    /// Device reset (status 0 written): forget everything the driver set up.
    mutating func reset()
    /// The driver notified queue `index` (only while DRIVER_OK), or the device goes on with work a
    /// previous call left: use its available buffers, doing no more than `budget` allows.
    /// `.budgetSpent` asks to be called again at a later exit. A thrown error puts the device
    /// in DEVICE_NEEDS_RESET.
    mutating func process(queue index: Int, _ queue: inout SplitVirtqueue, chain: inout VirtqueueChain,
                          memory: GuestMemory, budget: inout DeviceWorkBudget) throws(VirtqueueError) -> VirtqueueProgress
}
