import GranaryCodec

/// The on-disk format of pack files.
///
/// A pack is a 16-byte file header followed by self-describing records, appended and never
/// overwritten, so the chunk table can be rebuilt from packs alone:
///
/// ```
/// file header (16 B):  "GRNYPACK" | format version u32 LE | pack id u32 LE
/// record:
///   0   4  magic "GRC1"
///   4   1  format version (1)
///   5   1  codec (0 raw, 1 zstd, 2 raw with compression deferred)
///   6   2  flags (0)
///   8   4  raw length u32 LE
///  12   4  stored length u32 LE
///  16  32  SHA-256 of the raw bytes
///  48   4  CRC32C of the stored bytes
///  52   4  CRC32C of header bytes 0..<52 (a damaged length cannot derail a scan)
///  56   …  stored bytes
/// ```
///
/// Appends are written in 4 KiB blocks (see ``PackAppender``): at each commit point the tail is
/// padded with zeros to the next block, so a scan that finds zeros instead of a record magic
/// skips to the next 4 KiB boundary.
enum PackFormat {
    static let fileMagic: [UInt8] = Array("GRNYPACK".utf8)
    static let fileHeaderSize = 16
    static let fileVersion: UInt32 = 1
    static let recordMagic: [UInt8] = Array("GRC1".utf8)
    static let recordVersion: UInt8 = 1
    static let recordHeaderSize = 56

    static func fileHeader(packID: UInt32) -> [UInt8] {
        var bytes = fileMagic
        bytes.appendLittleEndian(fileVersion)
        bytes.appendLittleEndian(packID)
        return bytes
    }

    /// The file name of a pack: eight hex digits.
    static func fileName(_ packID: UInt32) -> String {
        let hex = String(packID, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex + ".pack"
    }

    /// The pack id a file name stands for, or nil for other files.
    static func packID(fileName: String) -> UInt32? {
        guard fileName.hasSuffix(".pack"), fileName.count == 13 else { return nil }
        return UInt32(fileName.prefix(8), radix: 16)
    }
}

/// How a chunk's bytes are stored.
enum ChunkCodec: UInt8, Sendable {
    case raw = 0
    case zstd = 1
    /// Raw bytes whose compression was deferred (`store.compression = deferred`): the next
    /// compaction tries zstd on them.
    case rawDeferred = 2

    /// Whether the stored bytes are the raw bytes.
    var isRaw: Bool { self != .zstd }
}

/// A parsed record header.
struct RecordHeader: Equatable {
    var codec: ChunkCodec
    var rawLength: Int
    var storedLength: Int
    var sha256: SHA256Key
    var storedCRC: UInt32

    /// Writes the 56-byte header into `out`.
    func encode(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= PackFormat.recordHeaderSize)
        out.copyBytes(from: PackFormat.recordMagic)
        out[4] = PackFormat.recordVersion
        out[5] = codec.rawValue
        out[6] = 0
        out[7] = 0
        out.storeBytes(of: UInt32(rawLength).littleEndian, toByteOffset: 8, as: UInt32.self)
        out.storeBytes(of: UInt32(storedLength).littleEndian, toByteOffset: 12, as: UInt32.self)
        sha256.withBytes { UnsafeMutableRawBufferPointer(rebasing: out[16..<48]).copyMemory(from: $0) }
        out.storeBytes(of: storedCRC.littleEndian, toByteOffset: 48, as: UInt32.self)
        let headerCRC = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: out[0..<52]))
        out.storeBytes(of: headerCRC.littleEndian, toByteOffset: 52, as: UInt32.self)
    }

    /// Parses and checks a header; nil-free: any damage is a `corrupt` error naming `location`.
    static func decode(_ bytes: UnsafeRawBufferPointer, location: @autoclosure () -> String) throws(StoreError) -> RecordHeader {
        guard bytes.count >= PackFormat.recordHeaderSize,
            bytes[0] == PackFormat.recordMagic[0], bytes[1] == PackFormat.recordMagic[1],
            bytes[2] == PackFormat.recordMagic[2], bytes[3] == PackFormat.recordMagic[3]
        else {
            throw StoreError(.corrupt, "no record header at \(location()) (bad magic)")
        }
        let storedHeaderCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 52, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<52])) == storedHeaderCRC else {
            throw StoreError(.corrupt, "record header at \(location()) fails its checksum")
        }
        guard bytes[4] == PackFormat.recordVersion, let codec = ChunkCodec(rawValue: bytes[5]) else {
            throw StoreError(.corrupt, "record at \(location()) has unknown version \(bytes[4]) or codec \(bytes[5])")
        }
        return RecordHeader(
            codec: codec,
            rawLength: Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))),
            storedLength: Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))),
            sha256: SHA256Key(UnsafeRawBufferPointer(rebasing: bytes[16..<48])),
            storedCRC: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
        )
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    func littleEndian<T: FixedWidthInteger>(at offset: Int, as: T.Type = T.self) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
