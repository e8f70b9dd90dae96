import Foundation
import GranaryTesting
import Testing

@testable import GranaryCatalog

/// The format inspection on headers built here field by field (the API tests feed it real
/// images made by qemu-img), and Glance's rules on what it finds.
@Suite struct ImageFormatTests {
    /// A head of `length` zero bytes with `fields` written at their offsets.
    static func head(_ fields: [(Int, [UInt8])], length: Int = 4096) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        for (offset, value) in fields { bytes.replaceSubrange(offset..<(offset + value.count), with: value) }
        return bytes
    }

    static func big(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
    static func little(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

    static func qcow2(version: UInt64 = 3, backing: UInt64 = 0, features: UInt64 = 0) -> [UInt8] {
        head([(0, [0x51, 0x46, 0x49, 0xFB]), (4, big(version, 4)), (8, big(backing, 8)), (24, big(1 << 30, 8)), (72, big(features, 8))])
    }

    static func vmdk(_ descriptor: String) -> [UInt8] {
        head([(0, Array("KDMV".utf8)), (12, little(2_097_152, 8)), (28, little(1, 8)), (36, little(20, 8)), (512, Array(descriptor.utf8))])
    }

    static let sparseDescriptor = "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicSparse\"\n\nRW 2097152 SPARSE \"disk.vmdk\"\n"

    @Test func headersTellFormatAndVirtualSize() {
        #expect(InspectedImage.inspect(Self.qcow2(), size: 200_000) == InspectedImage(format: "qcow2", virtualSize: 1 << 30))
        #expect(InspectedImage.inspect(Self.qcow2(version: 2, features: 0xFF), size: 1) == InspectedImage(format: "qcow2", virtualSize: 1 << 30))
        #expect(InspectedImage.inspect(Self.vmdk(Self.sparseDescriptor), size: 1) == InspectedImage(format: "vmdk", virtualSize: 1 << 30))
        let vhd = Self.head([(0, Array("conectix".utf8)), (48, Self.big(5 << 20, 8))])
        #expect(InspectedImage.inspect(vhd, size: 1) == InspectedImage(format: "vhd", virtualSize: 5 << 20))
        #expect(InspectedImage.inspect(Self.head([(0, Array("vhdxfile".utf8))]), size: 1) == InspectedImage(format: "vhdx"))
        let vdi = Self.head([(0x40, Self.little(0xBEDA_107F, 4)), (0x170, Self.little(7 << 20, 8))], length: 1024)
        #expect(InspectedImage.inspect(vdi, size: 1) == InspectedImage(format: "vdi", virtualSize: 7 << 20))
        let iso = Self.head([(0x8001, Array("CD001".utf8)), (0x8050, Self.little(300, 4)), (0x8080, Self.little(2048, 2))], length: 36_000)
        #expect(InspectedImage.inspect(iso, size: 700_000) == InspectedImage(format: "iso", virtualSize: 300 * 2048))
        let noise = randomBytes(70_000, seed: 5)
        #expect(InspectedImage.inspect(noise, size: 9_000_000).format == "raw")
        #expect(InspectedImage.inspect(noise, size: 9_000_000).virtualSize == 9_000_000)
        // Heads cut short read as far as they go.
        #expect(InspectedImage.inspect([0x51, 0x46, 0x49, 0xFB], size: 4).format == "qcow2")
        #expect(InspectedImage.inspect(Array("conectix".utf8), size: 8) == InspectedImage(format: "vhd"))
        #expect(InspectedImage.inspect([], size: 0) == InspectedImage(format: "raw", virtualSize: 0))
    }

    @Test func imagesThatReachForOtherFilesAreUnsafe() {
        #expect(InspectedImage.inspect(Self.qcow2(), size: 1).unsafe == nil)
        #expect(InspectedImage.inspect(Self.qcow2(backing: 0x200), size: 1).unsafe?.contains("backing file") == true)
        #expect(InspectedImage.inspect(Self.qcow2(features: 0x4), size: 1).unsafe?.contains("external file") == true)
        #expect(InspectedImage.inspect(Self.qcow2(features: 0x40), size: 1).unsafe?.contains("unknown") == true)
        #expect(InspectedImage.inspect(Self.qcow2(features: 0x1B), size: 1).unsafe == nil)  // dirty, corrupt, compression, extended L2
        #expect(InspectedImage.inspect(Self.qcow2(version: 4), size: 1).unsafe != nil)
        #expect(InspectedImage.inspect(Self.vmdk(Self.sparseDescriptor), size: 1).unsafe == nil)
        let stream = Self.sparseDescriptor.replacingOccurrences(of: "monolithicSparse", with: "streamOptimized")
        #expect(InspectedImage.inspect(Self.vmdk(stream), size: 1).unsafe == nil)
        for descriptor in [
            Self.sparseDescriptor.replacingOccurrences(of: "monolithicSparse", with: "monolithicFlat"),
            Self.sparseDescriptor.replacingOccurrences(of: "SPARSE", with: "FLAT"),
            Self.sparseDescriptor + "RW 2048 SPARSE \"/etc/other.vmdk\"\n",
            "createType=\"monolithicSparse\"\n",
        ] {
            #expect(InspectedImage.inspect(Self.vmdk(descriptor), size: 1).unsafe != nil, "\(descriptor)")
        }
        // A descriptor past the inspected head cannot be checked: unsafe.
        var far = Self.vmdk(Self.sparseDescriptor)
        far.replaceSubrange(28..<36, with: Self.little(1000, 8))
        #expect(InspectedImage.inspect(far, size: 1).unsafe != nil)
    }

    @Test func glancesRulesOnWhatWasFound() throws {
        func check(_ disk: String?, _ head: [UInt8], container: String? = "bare", size: Int = 200_000, enforce: Bool = true) throws -> Int? {
            try ImageCatalog.checkFormat(diskFormat: disk, containerFormat: container, head: head, size: size, enforce: enforce)
        }
        func refused(_ disk: String?, _ head: [UInt8]) -> Bool {
            do {
                _ = try check(disk, head)
                return false
            } catch let error as CatalogError {
                return error.code == .unsupportedMediaType
            } catch {
                return false
            }
        }
        let noise = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 3) }
        #expect(try check("qcow2", Self.qcow2()) == 1 << 30)
        #expect(try check("raw", noise) == 200_000)
        #expect(try check("raw", Self.qcow2()) == 200_000)  // a recognised format declared raw: accepted as bytes
        #expect(refused("qcow2", noise))
        #expect(refused("vmdk", Self.qcow2()))
        #expect(refused("qcow2", Self.qcow2(backing: 512)))
        #expect(refused("vmdk", Self.vmdk("createType=\"vmfs\"\nRW 1 VMFS \"x\"\n")))
        #expect(try check("ami", noise) == nil)
        #expect(refused("aki", Self.qcow2()))
        #expect(try check("ploop", noise) == nil)
        // Not inspected: other containers, no data, the check switched off.
        #expect(try check("qcow2", noise, container: "ovf") == nil)
        #expect(try check("qcow2", Self.qcow2(), container: "ovf") == 1 << 30)
        #expect(try check("qcow2", [], size: 0) == nil)
        #expect(try check("qcow2", Self.qcow2(backing: 512), enforce: false) == 1 << 30)
        #expect(try check("vhd", noise, enforce: false) == nil)
    }
}
