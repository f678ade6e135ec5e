/// Guest time from the processor's time-stamp counter.
///
/// The guest's TSC is the host's (no TSC offsetting), so every virtual device
/// that keeps time (PIT, RTC) reads it from here: the TSC value at the VM's
/// creation is its time zero, and `tscHz` (calibrated by the host at boot)
/// converts ticks to seconds. Overflow-safe for any 64-bit TSC distance.
public struct GuestClock: Sendable {
    public let tscHz: UInt64
    public let tscBase: UInt64

    public init(tscHz: UInt64, tscBase: UInt64) {
        self.tscHz = max(tscHz, 1)
        self.tscBase = tscBase
    }

    /// `tsc - tscBase` scaled to a rate of `hz`, i.e. floor(elapsed * hz / tscHz).
    @inline(__always)
    public func ticks(at tsc: UInt64, hz: UInt64) -> UInt64 {
        let elapsed = tsc &- tscBase
        let product = elapsed.multipliedFullWidth(by: hz)
        guard product.high < tscHz else { return .max }
        return tscHz.dividingFullWidth((product.high, product.low)).quotient
    }

    /// The first TSC value at which `ticks(at:hz:)` reaches `tick` (the inverse, rounded up).
    public func tsc(atTick tick: UInt64, hz: UInt64) -> UInt64 {
        let product = tick.multipliedFullWidth(by: tscHz)
        guard product.high < hz else { return .max }
        let (q, r) = hz.dividingFullWidth((product.high, product.low))
        let (sum, overflow) = tscBase.addingReportingOverflow(r == 0 ? q : q + 1)
        return overflow ? .max : sum
    }

    /// 1,193,182 Hz: the PC's PIT input clock.
    public func pitTicks(at tsc: UInt64) -> UInt64 { ticks(at: tsc, hz: 1_193_182) }
    public func nanoseconds(at tsc: UInt64) -> UInt64 { ticks(at: tsc, hz: 1_000_000_000) }
}
