import XCTest
import X86
@testable import VTx

final class VMCSFieldTests: XCTestCase {
    func testEncodingsMatchSDM() {
        let expected: [(VMCSField, UInt32)] = [
            (.virtualProcessorIdentifier, 0x0000), (.postedInterruptNotificationVector, 0x0002), (.eptpIndex, 0x0004),
            (.guestESSelector, 0x0800), (.guestTRSelector, 0x080E), (.guestInterruptStatus, 0x0810), (.pmlIndex, 0x0812),
            (.hostESSelector, 0x0C00), (.hostTRSelector, 0x0C0C),
            (.ioBitmapA, 0x2000), (.ioBitmapB, 0x2002), (.msrBitmaps, 0x2004), (.vmExitMSRStoreAddress, 0x2006),
            (.vmEntryMSRLoadAddress, 0x200A), (.executiveVMCSPointer, 0x200C), (.pmlAddress, 0x200E),
            (.tscOffset, 0x2010), (.virtualAPICAddress, 0x2012), (.apicAccessAddress, 0x2014),
            (.postedInterruptDescriptorAddress, 0x2016), (.vmFunctionControls, 0x2018), (.eptPointer, 0x201A),
            (.eoiExitBitmap0, 0x201C), (.eoiExitBitmap3, 0x2022), (.eptpListAddress, 0x2024),
            (.vmreadBitmapAddress, 0x2026), (.vmwriteBitmapAddress, 0x2028),
            (.virtualizationExceptionInformationAddress, 0x202A), (.xssExitingBitmap, 0x202C),
            (.enclsExitingBitmap, 0x202E), (.subPagePermissionTablePointer, 0x2030), (.tscMultiplier, 0x2032),
            (.procBasedControls3, 0x2034),
            (.guestPhysicalAddress, 0x2400),
            (.vmcsLinkPointer, 0x2800), (.guestIA32DebugCtl, 0x2802), (.guestIA32PAT, 0x2804), (.guestIA32EFER, 0x2806),
            (.guestIA32PerfGlobalCtrl, 0x2808), (.guestPDPTE0, 0x280A), (.guestPDPTE3, 0x2810),
            (.guestIA32BNDCFGS, 0x2812), (.guestIA32RTITCtl, 0x2814), (.guestIA32PKRS, 0x2818),
            (.hostIA32PAT, 0x2C00), (.hostIA32EFER, 0x2C02), (.hostIA32PerfGlobalCtrl, 0x2C04), (.hostIA32PKRS, 0x2C06),
            (.pinBasedControls, 0x4000), (.procBasedControls, 0x4002), (.exceptionBitmap, 0x4004),
            (.pageFaultErrorCodeMask, 0x4006), (.pageFaultErrorCodeMatch, 0x4008), (.cr3TargetCount, 0x400A),
            (.vmExitControls, 0x400C), (.vmExitMSRStoreCount, 0x400E), (.vmExitMSRLoadCount, 0x4010),
            (.vmEntryControls, 0x4012), (.vmEntryMSRLoadCount, 0x4014), (.vmEntryInterruptionInformation, 0x4016),
            (.vmEntryExceptionErrorCode, 0x4018), (.vmEntryInstructionLength, 0x401A), (.tprThreshold, 0x401C),
            (.procBasedControls2, 0x401E), (.pleGap, 0x4020), (.pleWindow, 0x4022),
            (.vmInstructionError, 0x4400), (.exitReason, 0x4402), (.vmExitInterruptionInformation, 0x4404),
            (.vmExitInterruptionErrorCode, 0x4406), (.idtVectoringInformation, 0x4408),
            (.idtVectoringErrorCode, 0x440A), (.vmExitInstructionLength, 0x440C), (.vmExitInstructionInformation, 0x440E),
            (.guestESLimit, 0x4800), (.guestGDTRLimit, 0x4810), (.guestIDTRLimit, 0x4812),
            (.guestESAccessRights, 0x4814), (.guestTRAccessRights, 0x4822),
            (.guestInterruptibilityState, 0x4824), (.guestActivityState, 0x4826), (.guestSMBASE, 0x4828),
            (.guestIA32SysenterCS, 0x482A), (.vmxPreemptionTimerValue, 0x482E), (.hostIA32SysenterCS, 0x4C00),
            (.cr0GuestHostMask, 0x6000), (.cr4GuestHostMask, 0x6002), (.cr0ReadShadow, 0x6004), (.cr4ReadShadow, 0x6006),
            (.cr3TargetValue0, 0x6008), (.cr3TargetValue3, 0x600E),
            (.exitQualification, 0x6400), (.ioRCX, 0x6402), (.ioRIP, 0x6408), (.guestLinearAddress, 0x640A),
            (.guestCR0, 0x6800), (.guestCR3, 0x6802), (.guestCR4, 0x6804), (.guestESBase, 0x6806), (.guestTRBase, 0x6814),
            (.guestGDTRBase, 0x6816), (.guestIDTRBase, 0x6818), (.guestDR7, 0x681A), (.guestRSP, 0x681C),
            (.guestRIP, 0x681E), (.guestRFLAGS, 0x6820), (.guestPendingDebugExceptions, 0x6822),
            (.guestIA32SysenterESP, 0x6824), (.guestIA32SysenterEIP, 0x6826), (.guestIA32SCET, 0x6828),
            (.guestSSP, 0x682A), (.guestIA32InterruptSSPTableAddr, 0x682C),
            (.hostCR0, 0x6C00), (.hostCR3, 0x6C02), (.hostCR4, 0x6C04), (.hostFSBase, 0x6C06), (.hostGSBase, 0x6C08),
            (.hostTRBase, 0x6C0A), (.hostGDTRBase, 0x6C0C), (.hostIDTRBase, 0x6C0E), (.hostIA32SysenterESP, 0x6C10),
            (.hostIA32SysenterEIP, 0x6C12), (.hostRSP, 0x6C14), (.hostRIP, 0x6C16), (.hostIA32SCET, 0x6C18),
            (.hostSSP, 0x6C1A), (.hostIA32InterruptSSPTableAddr, 0x6C1C),
        ]
        for (field, enc) in expected {
            XCTAssertEqual(field.encoding, enc, Format.string(field.name))
        }
    }

    func testDerivedAttributes() {
        XCTAssertEqual(VMCSField.virtualProcessorIdentifier.width, .bits16)
        XCTAssertEqual(VMCSField.virtualProcessorIdentifier.type, .control)
        XCTAssertEqual(VMCSField.guestESSelector.type, .guestState)
        XCTAssertEqual(VMCSField.hostESSelector.type, .hostState)
        XCTAssertEqual(VMCSField.eptPointer.width, .bits64)
        XCTAssertEqual(VMCSField.eptPointer.index, 13)
        XCTAssertEqual(VMCSField.eptPointer.accessType, .full)
        XCTAssertEqual(VMCSField.eptPointer.high.encoding, 0x201B)
        XCTAssertEqual(VMCSField.eptPointer.high.accessType, .high)
        XCTAssertEqual(VMCSField.eptPointer.high.name.description, "EPT pointer")
        XCTAssertEqual(VMCSField.eptPointer.high.full, .eptPointer)
        XCTAssertEqual(VMCSField.guestPhysicalAddress.type, .vmExitInformation)
        XCTAssertTrue(VMCSField.guestPhysicalAddress.isReadOnly)
        XCTAssertEqual(VMCSField.pinBasedControls.width, .bits32)
        XCTAssertEqual(VMCSField.exitReason.type, .vmExitInformation)
        XCTAssertTrue(VMCSField.exitReason.isReadOnly)
        XCTAssertTrue(VMCSField.vmInstructionError.isReadOnly)
        XCTAssertTrue(VMCSField.exitQualification.isReadOnly)
        XCTAssertEqual(VMCSField.exitQualification.width, .natural)
        XCTAssertEqual(VMCSField.guestRIP.width, .natural)
        XCTAssertEqual(VMCSField.guestRIP.type, .guestState)
        XCTAssertEqual(VMCSField.guestRIP.index, 15)
        XCTAssertFalse(VMCSField.guestRIP.isReadOnly)
        XCTAssertEqual(VMCSField.hostRIP.type, .hostState)
        XCTAssertEqual(VMCSField.vmxPreemptionTimerValue.index, 23)
        XCTAssertEqual(VMCSField(width: .natural, type: .guestState, index: 15), .guestRIP)
        XCTAssertEqual(VMCSField(width: .bits64, type: .control, index: 13, access: .high).encoding, 0x201B)
        XCTAssertEqual(VMCSField.hostRIP.byteWidth, 8)
        XCTAssertEqual(VMCSField.guestESSelector.byteWidth, 2)
        XCTAssertEqual(VMCSField.eptPointer.high.byteWidth, 4)
    }

    func testAllFieldsUniqueNamedAndConsistent() {
        let all = VMCSField.allFields
        XCTAssertGreaterThan(all.count, 160)
        XCTAssertEqual(Set(all.map(\.encoding)).count, all.count, "duplicate encodings")
        XCTAssertEqual(Set(all.map { $0.name.description }).count, all.count, "duplicate names")
        XCTAssertEqual(all.map(\.encoding), all.map(\.encoding).sorted())
        for f in all {
            XCTAssertFalse(f.name.description.isEmpty)
            XCTAssertNotEqual(f.name.description, "unknown VMCS field")
            XCTAssertTrue(f.isKnown)
            XCTAssertTrue(f.isWellFormed, Format.hex(UInt64(f.encoding)))
            XCTAssertEqual(f.accessType, .full)
            // Re-assemble the encoding from its derived parts.
            XCTAssertEqual(VMCSField(width: f.width, type: f.type, index: f.index), f)
        }
        XCTAssertFalse(VMCSField(rawValue: 0x482C).isKnown)
        XCTAssertEqual(VMCSField(rawValue: 0x482C).name.description, "unknown VMCS field")
        XCTAssertFalse(VMCSField(rawValue: 0x6801).isWellFormed)
    }

    func testNames() {
        XCTAssertEqual(VMCSField.guestRIP.name.description, "guest RIP")
        XCTAssertEqual(VMCSField.exitQualification.name.description, "exit qualification")
        XCTAssertEqual(VMCSField.procBasedControls2.name.description, "secondary processor-based VM-execution controls")
        XCTAssertEqual(VMCSField.vmInstructionError.name.description, "VM-instruction error")
    }

    /// The one table: strictly ascending encodings (no field twice), each well formed and full access.
    func testTableIsOrderedAndWellFormed() {
        let encodings = VMCSField.table.map { $0.field.rawValue }
        XCTAssertEqual(encodings, encodings.sorted())
        XCTAssertEqual(Set(encodings).count, encodings.count)
        for entry in VMCSField.table {
            XCTAssertTrue(entry.field.isWellFormed, Format.string(entry.name))
            XCTAssertEqual(entry.field.accessType, .full)
        }
        XCTAssertEqual(VMCSField.guestRIP.name.description, "guest RIP")
    }
}
