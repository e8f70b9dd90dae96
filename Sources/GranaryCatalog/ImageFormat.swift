import Foundation

/// What an image's first bytes say it is: Glance's format inspection (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py), which
/// keeps an upload declared `qcow2` from being random bytes, and a qcow2 or VMDK that points a
/// hypervisor at other files (a backing file, an external data file, extents elsewhere) from
/// being accepted at all. Only headers are read: ``headLength`` bytes from the start.
package struct InspectedImage: Sendable, Equatable {
    /// `qcow2`, `vmdk`, `vhd`, `vhdx`, `vdi`, `iso`, or `raw` when nothing else is recognised.
    package var format: String
    /// The disk size the guest sees, when the header tells it.
    package var virtualSize: Int?
    /// Why the content is unsafe to hand to a hypervisor; nil when it is not.
    package var unsafe: String?

    /// Bytes inspected: the headers of every format, the ISO volume descriptor at 32 KiB and a
    /// VMDK descriptor right after its header.
    package static let headLength = 64 << 10

    /// Inspects `head` (the first bytes of an image of `size` bytes).
    package static func inspect(_ head: [UInt8], size: Int) -> InspectedImage {
        let bytes = Header(head)
        if bytes.matches([0x51, 0x46, 0x49, 0xFB], at: 0) { return qcow2(bytes) }
        if bytes.matches(Array("KDMV".utf8), at: 0) { return vmdk(bytes) }
        if bytes.matches(Array("conectix".utf8), at: 0) {
            return InspectedImage(format: "vhd", virtualSize: bytes.bigEndian(at: 48, width: 8))
        }
        // The virtual size sits in the metadata region, past the inspected head.
        if bytes.matches(Array("vhdxfile".utf8), at: 0) { return InspectedImage(format: "vhdx") }
        if bytes.littleEndian(at: 0x40, width: 4) == 0xBEDA_107F {
            return InspectedImage(format: "vdi", virtualSize: bytes.littleEndian(at: 0x170, width: 8))
        }
        if bytes.matches(Array("CD001".utf8), at: 0x8001) {
            let blocks = bytes.littleEndian(at: 0x8000 + 80, width: 4)
            let blockSize = bytes.littleEndian(at: 0x8000 + 128, width: 2)
            return InspectedImage(format: "iso", virtualSize: blocks.flatMap { b in blockSize.map { b * $0 } })
        }
        return InspectedImage(format: "raw", virtualSize: size)
    }

    /// qcow2 (version 2 or 3): unsafe with a backing file, an external data file or an
    /// incompatible feature this inspector does not know.
    private static func qcow2(_ bytes: Header) -> InspectedImage {
        var image = InspectedImage(format: "qcow2", virtualSize: bytes.bigEndian(at: 24, width: 8))
        let version = bytes.bigEndian(at: 4, width: 4) ?? 0
        let features = version >= 3 ? bytes.bigEndian(at: 72, width: 8) ?? 0 : 0
        if (bytes.bigEndian(at: 8, width: 8) ?? 0) != 0 {
            image.unsafe = "the qcow2 image has a backing file"
        } else if features & 0x4 != 0 {
            image.unsafe = "the qcow2 image keeps its data in an external file"
        } else if features & ~0x1F != 0 {
            image.unsafe = "the qcow2 image uses unknown incompatible features"
        } else if !(2...3).contains(version) {
            image.unsafe = "qcow2 version \(version) is not known"
        }
        return image
    }

    /// A sparse VMDK: its descriptor must declare a single-file type (monolithicSparse or
    /// streamOptimized) and only sparse extents, so that no other file is read.
    private static func vmdk(_ bytes: Header) -> InspectedImage {
        var image = InspectedImage(format: "vmdk", virtualSize: bytes.littleEndian(at: 12, width: 8).map { $0 * 512 })
        guard let start = bytes.littleEndian(at: 28, width: 8).map({ $0 * 512 }), let length = bytes.littleEndian(at: 36, width: 8).map({ $0 * 512 }),
            start > 0, length > 0, let text = bytes.text(at: start, length: length)
        else {
            image.unsafe = "the VMDK descriptor is missing or lies past the first \(headLength) bytes"
            return image
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let createType = lines.first { $0.hasPrefix("createType") }?.split(separator: "=").last?.trimmingCharacters(in: .whitespaces)
            .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let extents = lines.filter { ["RW ", "RDONLY ", "NOACCESS "].contains(where: $0.hasPrefix) }
        if !["monolithicSparse", "streamOptimized"].contains(createType ?? "") {
            image.unsafe = "VMDK createType \(createType ?? "(none)") may refer to other files"
        } else if extents.count != 1 || extents[0].split(separator: " ").dropFirst(2).first != "SPARSE" {  // checked: count tested first
            // checked: count tested
            image.unsafe = "the VMDK must have one sparse extent, not \(extents.count == 1 ? extents[0] : "\(extents.count)")"
        }
        return image
    }

    /// Fixed-width reads of the head that answer nil past its end.
    private struct Header {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func matches(_ magic: [UInt8], at offset: Int) -> Bool {
            offset + magic.count <= bytes.count && bytes[offset..<(offset + magic.count)].elementsEqual(magic)
        }

        func bigEndian(at offset: Int, width: Int) -> Int? {
            guard offset + width <= bytes.count else { return nil }
            let value = bytes[offset..<(offset + width)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }  // checked: bytes widen, width ≤ 8
            return Int(exactly: value)
        }

        func littleEndian(at offset: Int, width: Int) -> Int? {
            guard offset + width <= bytes.count else { return nil }
            let value = bytes[offset..<(offset + width)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }  // checked: bytes widen, width ≤ 8
            return Int(exactly: value)
        }

        func text(at offset: Int, length: Int) -> String? {
            guard offset < bytes.count else { return nil }
            let slice = bytes[offset..<min(bytes.count, offset + length)]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension ImageCatalog {
    /// Glance's `require_image_format_match` for data of `size` bytes whose first bytes are
    /// `head` (checked when the container is `bare` and there is data): a disk format with a
    /// header must be what the bytes are, and safe; `raw` takes anything, the AMI formats
    /// anything not recognised as another format, `ploop` is not inspected.
    /// - Returns: the virtual size to record (the byte size for raw, the header's for the others).
    /// #### Errors
    /// 415 naming what the bytes are, or why they are unsafe.
    static func checkFormat(diskFormat: String?, containerFormat: String?, head: [UInt8], size: Int, enforce: Bool) throws -> Int? {
        let inspected = InspectedImage.inspect(head, size: size)
        switch diskFormat {
        case "raw"?: return size
        case "ploop"?, nil: return nil
        default: break
        }
        guard enforce, containerFormat == "bare", size > 0 else {
            return inspected.format == diskFormat ? inspected.virtualSize : nil
        }
        if ["ami", "ari", "aki"].contains(diskFormat) {
            guard inspected.format == "raw" else {
                throw CatalogError(.unsupportedMediaType, "Image content is \(inspected.format), not disk_format \(diskFormat ?? "").")
            }
            return nil
        }
        guard inspected.format == diskFormat else {
            throw CatalogError(
                .unsupportedMediaType, "Image content does not match disk_format \(diskFormat ?? ""): the data is \(inspected.format).")
        }
        if let unsafe = inspected.unsafe {
            throw CatalogError(.unsupportedMediaType, "Image failed the \(inspected.format) safety check: \(unsafe).")
        }
        return inspected.virtualSize
    }
}
