// A virtio 1.x device over PCI, modern transport (virtio 1.2 §4.1): its configuration
// space (IDs, BAR 0, the four vendor-specific capabilities) and the registers in
// BAR 0: common configuration, notifications, ISR status and device configuration.
// Interrupts: INTx (pin A) through the ISR status, or MSI-X (§4.1.5.1.2, PCI 3.0 §6.8.2) once
// the driver enables it: a table of queues + 1 vectors in BAR 1 (table at 0, PBA at 0x800),
// config_msix_vector and queue_msix_vector choosing the entries; while MSI-X is enabled the
// function never asserts INTx.

/// The layout of BAR 0 (one 16 KiB 32-bit memory BAR, a page per structure).
public enum VirtioPCILayout {
    public static var barSize: UInt64 { 0x4000 }
    public static var commonOffset: UInt64 { 0x0000 }
    public static var commonLength: UInt64 { 0x40 }
    public static var isrOffset: UInt64 { 0x1000 }
    public static var deviceOffset: UInt64 { 0x2000 }
    public static var notifyOffset: UInt64 { 0x3000 }
    /// notify_off_multiplier: queue n's notification address is notifyOffset + 4n.
    public static var notifyMultiplier: UInt32 { 4 }
    /// Capability cfg_type values (§4.1.4).
    public static var commonCfg: UInt8 { 1 }
    public static var notifyCfg: UInt8 { 2 }
    public static var isrCfg: UInt8 { 3 }
    public static var deviceCfg: UInt8 { 4 }
    /// VIRTIO_MSI_NO_VECTOR.
    public static var noVector: UInt16 { 0xFFFF }
    /// BAR 1: the MSI-X table and its Pending Bit Array.
    public static var msixBAR: Int { 1 }
    public static var msixBARSize: UInt64 { 0x1000 }
    public static var msixTableOffset: UInt64 { 0x000 }
    public static var msixPBAOffset: UInt64 { 0x800 }
    /// Where `configSpace()` puts the MSI-X capability (after the four virtio capabilities).
    public static var msixCapability: Int { 0x84 }
}

/// Offsets in the common configuration structure (§4.1.4.3).
enum VirtioCommonRegister {
    static var deviceFeatureSelect: UInt64 { 0x00 }
    static var deviceFeature: UInt64 { 0x04 }
    static var driverFeatureSelect: UInt64 { 0x08 }
    static var driverFeature: UInt64 { 0x0C }
    static var configMSIXVector: UInt64 { 0x10 }
    static var numQueues: UInt64 { 0x12 }
    static var deviceStatus: UInt64 { 0x14 }
    static var configGeneration: UInt64 { 0x15 }
    static var queueSelect: UInt64 { 0x16 }
    static var queueSize: UInt64 { 0x18 }
    static var queueMSIXVector: UInt64 { 0x1A }
    static var queueEnable: UInt64 { 0x1C }
    static var queueNotifyOff: UInt64 { 0x1E }
    static var queueDesc: UInt64 { 0x20 }
    static var queueDriver: UInt64 { 0x28 }
    static var queueDevice: UInt64 { 0x30 }
    static var queueNotifyData: UInt64 { 0x38 }
    static var queueReset: UInt64 { 0x3A }
}

public struct VirtioPCIDevice<Model: VirtioDeviceModel>: Device {
    public static var maxQueues: Int { 4 }
    public static var vendorID: UInt16 { 0x1AF4 }

    public var model: Model
    public let memory: GuestMemory
    public private(set) var status: UInt8 = 0
    public private(set) var isr: UInt8 = 0
    public private(set) var configGeneration: UInt8 = 0
    public private(set) var driverFeatures: UInt64 = 0
    var deviceFeatureSelect: UInt32 = 0
    var driverFeatureSelect: UInt32 = 0
    public private(set) var queueSelect: UInt16 = 0
    var queues: InlineArray<4, SplitVirtqueue>
    var chain = VirtqueueChain()
    /// Guest mistakes that put the device in DEVICE_NEEDS_RESET, and the latest one.
    public private(set) var malformedCount: UInt64 = 0
    public private(set) var lastError: VirtqueueError? = nil
    /// Queue notifications taken (including ignored ones).
    public private(set) var notifications: UInt64 = 0
    /// Queues (bit n: queue n) whose work a budget cut short, and how many later exits went on with it.
    public private(set) var deferredQueues: UInt8 = 0
    public private(set) var continuations: UInt64 = 0
    /// The MSI-X table: one vector per queue and one for configuration changes.
    public var msix = PCIMSIXTable(vectors: Model.queueCount &+ 1)
    /// config_msix_vector and each queue's queue_msix_vector (NO_VECTOR until the driver sets one).
    public private(set) var configVector: UInt16 = VirtioPCILayout.noVector
    var queueVectors = InlineArray<4, UInt16>(repeating: VirtioPCILayout.noVector)

    public init(model: Model, memory: GuestMemory) {
        precondition(Model.queueCount <= Self.maxQueues)
        self.model = model
        self.memory = memory
        queues = InlineArray(repeating: SplitVirtqueue(maxSize: Model.queueMaxSize))
    }

    /// Every feature the device offers.
    public var deviceFeatures: UInt64 {
        model.deviceFeatures | VirtioFeature.version1 | VirtioFeature.ringEventIndex | VirtioFeature.ringIndirectDescriptors
    }
    /// The features in force once FEATURES_OK is accepted (0 before).
    public var negotiatedFeatures: UInt64 { status & VirtioStatus.featuresOK != 0 ? driverFeatures : 0 }
    public var isLive: Bool {
        status & VirtioStatus.driverOK != 0 && status & VirtioStatus.deviceNeedsReset == 0
    }
    /// The level of the INTx line: any ISR bit set, while MSI-X is off (PCI 3.0 §6.8.2.3).
    public var interruptAsserted: Bool { isr != 0 && !msix.isEnabled }

    /// queue_msix_vector of queue `index` (NO_VECTOR for a queue that does not exist).
    public func queueVector(_ index: Int) -> UInt16 {
        index >= 0 && index < Model.queueCount ? queueVectors[index] : VirtioPCILayout.noVector
    }

    public func queue(_ index: Int) -> SplitVirtqueue? {
        index >= 0 && index < Model.queueCount ? queues[index] : nil
    }

    // MARK: PCI configuration space

    /// The function's configuration space: vendor 0x1AF4, device 0x1040 + type, revision 1,
    /// BAR 0 and the common/notify/ISR/device capabilities (§4.1.2, §4.1.4), INTx pin A.
    public static func configSpace() -> PCIConfigSpace {
        let type = Model.deviceType
        var space = PCIConfigSpace(vendorID: vendorID, deviceID: type.pciDeviceID, revisionID: 1,
                                   classCode: type.pciClassCode, subsystemVendorID: vendorID,
                                   subsystemID: 0x1100, interruptPin: .intA)
        space.defineBAR(0, PCIBARDefinition(kind: .memory32(prefetchable: false), size: VirtioPCILayout.barSize))
        addCapability(&space, type: VirtioPCILayout.commonCfg, offset: VirtioPCILayout.commonOffset,
                      length: VirtioPCILayout.commonLength)
        addCapability(&space, type: VirtioPCILayout.notifyCfg, offset: VirtioPCILayout.notifyOffset,
                      length: UInt64(Self.maxQueues) &* UInt64(VirtioPCILayout.notifyMultiplier),
                      multiplier: VirtioPCILayout.notifyMultiplier)
        addCapability(&space, type: VirtioPCILayout.isrCfg, offset: VirtioPCILayout.isrOffset, length: 4)
        addCapability(&space, type: VirtioPCILayout.deviceCfg, offset: VirtioPCILayout.deviceOffset, length: 0x100)
        space.defineBAR(VirtioPCILayout.msixBAR, PCIBARDefinition(kind: .memory32(prefetchable: false), size: VirtioPCILayout.msixBARSize))
        let msix = PCIMSIXCapability.add(to: &space, vectors: Model.queueCount &+ 1, bar: UInt8(VirtioPCILayout.msixBAR),
                                         tableOffset: UInt32(VirtioPCILayout.msixTableOffset),
                                         pbaOffset: UInt32(VirtioPCILayout.msixPBAOffset))
        precondition(msix == VirtioPCILayout.msixCapability)
        return space
    }

    /// struct virtio_pci_cap (and virtio_pci_notify_cap) after cap_vndr and cap_next.
    static func addCapability(_ space: inout PCIConfigSpace, type: UInt8, offset: UInt64, length: UInt64,
                              multiplier: UInt32? = nil) {
        var body = InlineArray<18, UInt8>(repeating: 0)
        let capLength = multiplier == nil ? 16 : 20
        body[0] = UInt8(capLength)
        body[1] = type
        body[2] = 0  // bar
        body[3] = 0  // id
        var index = 0
        while index < 4 {
            body[6 &+ index] = UInt8(truncatingIfNeeded: offset >> UInt64(index &* 8))
            body[10 &+ index] = UInt8(truncatingIfNeeded: length >> UInt64(index &* 8))
            if let multiplier { body[14 &+ index] = UInt8(truncatingIfNeeded: multiplier >> UInt32(index &* 8)) }
            index &+= 1
        }
        withUnsafeBytes(of: &body) { bytes in
            _ = space.addCapability(id: 0x09, body: UnsafeRawBufferPointer(rebasing: bytes[0 ..< capLength &- 2]))
        }
    }

    // MARK: BAR 0 accesses

    public mutating func read(offset: UInt64, size: Int) -> UInt64 {
        guard IOAccess.isValid(size: size) else { return 0 }
        if offset < VirtioPCILayout.commonLength {
            return readCommon(offset: offset, size: size)
        }
        if offset >= VirtioPCILayout.isrOffset && offset < VirtioPCILayout.isrOffset &+ 4 {
            // Reading ISR status clears it and deasserts INTx (§4.1.4.5).
            let value = offset == VirtioPCILayout.isrOffset ? UInt64(isr) : 0
            isr = 0
            return value
        }
        if offset >= VirtioPCILayout.deviceOffset && offset < VirtioPCILayout.deviceOffset &+ 0x1000 {
            let at = Int(offset &- VirtioPCILayout.deviceOffset)
            guard at &+ size <= model.configSize else { return 0 }
            return model.readConfig(offset: at, size: size) & IOAccess.mask(size: size)
        }
        return 0
    }

    public mutating func write(offset: UInt64, size: Int, value: UInt64) {
        guard IOAccess.isValid(size: size) else { return }
        if offset < VirtioPCILayout.commonLength {
            writeCommon(offset: offset, size: size, value: value & IOAccess.mask(size: size))
        } else if offset >= VirtioPCILayout.notifyOffset,
                  offset < VirtioPCILayout.notifyOffset &+ UInt64(Self.maxQueues) &* UInt64(VirtioPCILayout.notifyMultiplier) {
            notify(queue: Int((offset &- VirtioPCILayout.notifyOffset) / UInt64(VirtioPCILayout.notifyMultiplier)))
        } else if offset >= VirtioPCILayout.deviceOffset && offset < VirtioPCILayout.deviceOffset &+ 0x1000 {
            let at = Int(offset &- VirtioPCILayout.deviceOffset)
            guard at &+ size <= model.configSize else { return }
            model.writeConfig(offset: at, size: size, value: value & IOAccess.mask(size: size))
        }
    }

    var selectedQueueIndex: Int? {
        Int(queueSelect) < Model.queueCount ? Int(queueSelect) : nil
    }

    mutating func readCommon(offset: UInt64, size: Int) -> UInt64 {
        let q = selectedQueueIndex
        var selected = SplitVirtqueue(maxSize: 0)
        if let q { selected = queues[q] }
        switch (offset, size) {
        case (VirtioCommonRegister.deviceFeatureSelect, 4): return UInt64(deviceFeatureSelect)
        case (VirtioCommonRegister.deviceFeature, 4):
            return deviceFeatureSelect < 2 ? (deviceFeatures >> UInt64(deviceFeatureSelect &* 32)) & 0xFFFF_FFFF : 0
        case (VirtioCommonRegister.driverFeatureSelect, 4): return UInt64(driverFeatureSelect)
        case (VirtioCommonRegister.driverFeature, 4):
            return driverFeatureSelect < 2 ? (driverFeatures >> UInt64(driverFeatureSelect &* 32)) & 0xFFFF_FFFF : 0
        case (VirtioCommonRegister.configMSIXVector, 2): return UInt64(configVector)
        case (VirtioCommonRegister.numQueues, 2): return UInt64(Model.queueCount)
        case (VirtioCommonRegister.deviceStatus, 1): return UInt64(status)
        case (VirtioCommonRegister.configGeneration, 1): return UInt64(configGeneration)
        case (VirtioCommonRegister.queueSelect, 2): return UInt64(queueSelect)
        case (VirtioCommonRegister.queueSize, 2): return q == nil ? 0 : UInt64(selected.size)
        case (VirtioCommonRegister.queueMSIXVector, 2): return UInt64(q == nil ? VirtioPCILayout.noVector : queueVectors[q!])
        case (VirtioCommonRegister.queueEnable, 2): return selected.isEnabled ? 1 : 0
        case (VirtioCommonRegister.queueNotifyOff, 2), (VirtioCommonRegister.queueNotifyData, 2):
            return UInt64(q ?? 0)
        case (VirtioCommonRegister.queueReset, 2): return 0
        default: break
        }
        // The 64-bit queue addresses, as one 64-bit or two 32-bit accesses.
        guard q != nil, offset >= VirtioCommonRegister.queueDesc, offset < VirtioCommonRegister.queueNotifyData,
              size == 8 || size == 4, offset & UInt64(size &- 1) == 0 else { return 0 }
        let field = (offset &- VirtioCommonRegister.queueDesc) / 8
        let value = field == 0 ? selected.descriptorArea : field == 1 ? selected.driverArea : selected.deviceArea
        return size == 8 ? value : (offset & 4 == 0 ? value & 0xFFFF_FFFF : value >> 32)
    }

    mutating func writeCommon(offset: UInt64, size: Int, value: UInt64) {
        switch (offset, size) {
        case (VirtioCommonRegister.deviceFeatureSelect, 4): deviceFeatureSelect = UInt32(value)
        case (VirtioCommonRegister.driverFeatureSelect, 4): driverFeatureSelect = UInt32(value)
        case (VirtioCommonRegister.driverFeature, 4):
            // Features are fixed once FEATURES_OK is set (§3.1.1).
            guard status & VirtioStatus.featuresOK == 0, driverFeatureSelect < 2 else { return }
            let shift = UInt64(driverFeatureSelect &* 32)
            driverFeatures = (driverFeatures & ~(0xFFFF_FFFF << shift)) | (value << shift)
        case (VirtioCommonRegister.deviceStatus, 1): writeStatus(UInt8(value))
        case (VirtioCommonRegister.configMSIXVector, 2): configVector = validVector(UInt16(value))
        case (VirtioCommonRegister.queueMSIXVector, 2):
            guard let q = selectedQueueIndex else { return }
            queueVectors[q] = validVector(UInt16(value))
        case (VirtioCommonRegister.queueSelect, 2): queueSelect = UInt16(value)
        case (VirtioCommonRegister.queueSize, 2):
            guard let q = selectedQueueIndex, !queues[q].isEnabled else { return }
            queues[q].size = UInt16(value)
        case (VirtioCommonRegister.queueEnable, 2):
            guard let q = selectedQueueIndex, value == 1, !queues[q].isEnabled,
                  status & VirtioStatus.featuresOK != 0, status & VirtioStatus.deviceNeedsReset == 0 else { return }
            do throws(VirtqueueError) {
                try queues[q].enable(memory: memory, features: driverFeatures)
            } catch {
                enterNeedsReset(error)
            }
        default:
            guard let q = selectedQueueIndex, !queues[q].isEnabled,
                  offset >= VirtioCommonRegister.queueDesc, offset < VirtioCommonRegister.queueNotifyData,
                  size == 8 || size == 4, offset & UInt64(size &- 1) == 0 else { return }
            let field = (offset &- VirtioCommonRegister.queueDesc) / 8
            func merged(_ old: UInt64) -> UInt64 {
                if size == 8 { return value }
                return offset & 4 == 0 ? (old & ~0xFFFF_FFFF) | value : (old & 0xFFFF_FFFF) | (value << 32)
            }
            if field == 0 { queues[q].descriptorArea = merged(queues[q].descriptorArea) }
            else if field == 1 { queues[q].driverArea = merged(queues[q].driverArea) }
            else { queues[q].deviceArea = merged(queues[q].deviceArea) }
        }
    }

    /// A vector past the MSI-X table is not mapped: it reads back NO_VECTOR (§4.1.4.3.2).
    func validVector(_ vector: UInt16) -> UInt16 {
        Int(vector) < msix.vectorCount ? vector : VirtioPCILayout.noVector
    }

    /// device_status written (§2.1, §3.1.1): 0 resets; bits only accumulate; FEATURES_OK is
    /// kept only for an acceptable feature set (VERSION_1, nothing the device did not offer);
    /// DRIVER_OK only after FEATURES_OK.
    mutating func writeStatus(_ new: UInt8) {
        if new == 0 { reset(); return }
        // The driver must not clear bits; NEEDS_RESET is the device's own bit.
        var accepted = (new & ~VirtioStatus.deviceNeedsReset) | (status & VirtioStatus.deviceNeedsReset)
        guard accepted & status == status else { return }
        if accepted & VirtioStatus.featuresOK != 0 && status & VirtioStatus.featuresOK == 0 {
            let acceptable = accepted & (VirtioStatus.acknowledge | VirtioStatus.driver) == VirtioStatus.acknowledge | VirtioStatus.driver
                && driverFeatures & ~deviceFeatures == 0 && driverFeatures & VirtioFeature.version1 != 0
            if !acceptable { accepted &= ~(VirtioStatus.featuresOK | VirtioStatus.driverOK) }
        }
        if accepted & VirtioStatus.driverOK != 0 && accepted & VirtioStatus.featuresOK == 0 {
            accepted &= ~VirtioStatus.driverOK
        }
        // A queue set up wrongly before DRIVER_OK: tell the driver as soon as it can listen.
        if accepted & VirtioStatus.driverOK != 0 && status & VirtioStatus.driverOK == 0
            && accepted & VirtioStatus.deviceNeedsReset != 0 {
            interruptConfiguration()
        }
        status = accepted
    }

    /// Device reset (§4.1.4.3.1): status, features, queues and ISR back to their initial values.
    public mutating func reset() {
        status = 0
        isr = 0
        driverFeatures = 0
        deviceFeatureSelect = 0
        driverFeatureSelect = 0
        queueSelect = 0
        configVector = VirtioPCILayout.noVector
        deferredQueues = 0
        var index = 0
        while index < Model.queueCount { queues[index].reset(); queueVectors[index] = VirtioPCILayout.noVector; index &+= 1 }
        model.reset()
    }

    /// A guest mistake: DEVICE_NEEDS_RESET, a configuration-change interrupt, and no more
    /// queue processing until the driver resets the device (§2.1.2).
    public mutating func enterNeedsReset(_ error: VirtqueueError) {
        malformedCount &+= 1
        lastError = error
        deferredQueues = 0
        if status & VirtioStatus.deviceNeedsReset != 0 { return }
        status |= VirtioStatus.deviceNeedsReset
        if status & VirtioStatus.driverOK != 0 { interruptConfiguration() }
    }

    /// The device configuration changed (e.g. link status): bump config_generation and interrupt.
    public mutating func configurationChanged() {
        configGeneration &+= 1
        if status & VirtioStatus.driverOK != 0 { interruptConfiguration() }
    }

    /// A write to queue `index`'s notification address: the queue is processed now, within one
    /// exit's budget.
    public mutating func notify(queue index: Int) {
        notifications &+= 1
        guard isLive, index < Model.queueCount, queues[index].isEnabled else { return }
        var budget = DeviceWorkBudget()
        process(queue: index, budget: &budget)
    }

    /// Whether a queue has work that a budget cut short (`continueDeferredWork` goes on with it).
    public var hasDeferredWork: Bool { deferredQueues != 0 }

    /// Goes on with the queues' deferred work, within one exit's budget shared by the queues.
    public mutating func continueDeferredWork() {
        guard deferredQueues != 0 else { return }
        continuations &+= 1
        var budget = DeviceWorkBudget()
        var index = 0
        while index < Model.queueCount {
            if deferredQueues & (1 << UInt8(index)) != 0 {
                deferredQueues &= ~(1 << UInt8(index))
                if isLive && queues[index].isEnabled { process(queue: index, budget: &budget) }
            }
            index &+= 1
        }
    }

    mutating func process(queue index: Int, budget: inout DeviceWorkBudget) {
        do throws(VirtqueueError) {
            if try model.process(queue: index, &queues[index], chain: &chain, memory: memory, budget: &budget) == .budgetSpent {
                deferredQueues |= 1 << UInt8(index)
            } else {
                deferredQueues &= ~(1 << UInt8(index))
            }
        } catch {
            deferredQueues &= ~(1 << UInt8(index))
            enterNeedsReset(error)
        }
        updateInterrupt(queue: index)
    }

    /// Sets the queue-interrupt ISR bit when queue `index`'s driver wants an interrupt for new used entries.
    public mutating func updateInterrupt(queue index: Int) {
        guard index < Model.queueCount else { return }
        guard queues[index].needsInterrupt(memory: memory) else { return }
        // With MSI-X the queue's vector, else the ISR bit and INTx (§4.1.5.2).
        if msix.isEnabled { msix.raise(queueVectors[index]) } else { isr |= VirtioISR.queueInterrupt }
    }

    /// A configuration-change notification: the ISR bit, and the config vector with MSI-X (§4.1.5.3).
    mutating func interruptConfiguration() {
        isr |= VirtioISR.configurationChange
        if msix.isEnabled { msix.raise(configVector) }
    }

    // MARK: BAR 1 (MSI-X)

    public mutating func readMSIX(offset: UInt64, size: Int) -> UInt64 {
        if offset >= VirtioPCILayout.msixPBAOffset { return msix.readPBA(offset: offset &- VirtioPCILayout.msixPBAOffset, size: size) }
        return msix.readTable(offset: offset &- VirtioPCILayout.msixTableOffset, size: size)
    }

    public mutating func writeMSIX(offset: UInt64, size: Int, value: UInt64) {
        guard offset < VirtioPCILayout.msixPBAOffset else { return }   // the PBA is read-only
        msix.writeTable(offset: offset &- VirtioPCILayout.msixTableOffset, size: size, value: value)
    }
}
