import CGranaryCRC32C

/// CRC32C (Castagnoli), the record checksum of pack files.
///
/// Chosen over XXH3 because it needs no extra library and, with the SSE4.2 instruction, runs at
/// several GB/s: far above what the disk writes (see the codec benchmark for the measured rate).
package enum CRC32C {
    /// The checksum of `bytes`, continuing from `crc` (0 to start).
    @inline(__always)
    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        cgranary_crc32c(crc, bytes.baseAddress, bytes.count)
    }

    /// The checksum of `bytes`, continuing from `crc`, while copying them to `destination`
    /// (at least as long, not overlapping): one pass where a copy and a checksum would read twice.
    @inline(__always)
    package static func checksum(
        copying bytes: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer, continuing crc: UInt32 = 0
    ) -> UInt32 {
        precondition(destination.count >= bytes.count, "destination shorter than the source")
        guard let source = bytes.baseAddress, let target = destination.baseAddress else { return crc }
        return cgranary_crc32c_copy(crc, target, source, bytes.count)
    }

    /// The checksum of an array.
    package static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// Whether the SSE4.2 instruction is in use (false means the slower table fallback).
    package static var isHardwareAccelerated: Bool { cgranary_crc32c_hardware() != 0 }
}
