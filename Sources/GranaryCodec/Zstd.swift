import CGranaryZstd

/// A reusable zstd compression context at a fixed level.
///
/// Creating a context costs far more than compressing one 64 KiB chunk, so each worker keeps one.
package final class ZstdCompressor {
    package let level: Int32
    private let context: OpaquePointer

    package init(level: Int32 = 1) {
        self.level = level
        // Safe because ZSTD_createCCtx only fails on allocation failure.
        self.context = ZSTD_createCCtx()!
    }

    deinit { ZSTD_freeCCtx(context) }

    /// The largest output compressing `count` bytes can produce.
    package static func maxCompressedSize(_ count: Int) -> Int { ZSTD_compressBound(count) }

    /// Compresses `source` into `destination`; returns the compressed length.
    ///
    /// Uses `ZSTD_compressCCtx`. Size `destination` with ``maxCompressedSize(_:)`` to never fail
    /// for lack of room; a smaller one fails with ``CodecError/Code/outputTooSmall``, which callers
    /// use to keep incompressible chunks raw without a full-size scratch buffer.
    package func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        let rc = ZSTD_compressCCtx(context, destination.baseAddress, destination.count, source.baseAddress, source.count, level)
        if cgranary_zstd_is_error(rc) != 0 {
            let name = String(cString: ZSTD_getErrorName(rc))
            if ZSTD_getErrorCode(rc) == ZSTD_error_dstSize_tooSmall {
                throw CodecError(.outputTooSmall, "zstd output buffer of \(destination.count) bytes too small")
            }
            throw CodecError(.compressionFailed, "zstd compression failed: \(name)")
        }
        return rc
    }

    /// Compresses an array (convenience off the hot path).
    package func compress(_ source: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Self.maxCompressedSize(source.count))
        let n = try source.withUnsafeBytes { src in
            try output.withUnsafeMutableBytes { dst in try compress(src, into: dst) }
        }
        output.removeSubrange(n...)
        return output
    }
}

/// A reusable zstd decompression context.
package final class ZstdDecompressor {
    private let context: OpaquePointer

    package init() {
        // Safe because ZSTD_createDCtx only fails on allocation failure.
        self.context = ZSTD_createDCtx()!
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses one frame from `source` into `destination`; returns the decompressed length.
    ///
    /// Uses `ZSTD_decompressDCtx`. Corrupt input fails with ``CodecError/Code/corruptInput``.
    package func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        let rc = ZSTD_decompressDCtx(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
        if cgranary_zstd_is_error(rc) != 0 {
            let name = String(cString: ZSTD_getErrorName(rc))
            if ZSTD_getErrorCode(rc) == ZSTD_error_dstSize_tooSmall {
                throw CodecError(.outputTooSmall, "zstd output buffer of \(destination.count) bytes too small")
            }
            throw CodecError(.corruptInput, "zstd frame does not decode: \(name)")
        }
        return rc
    }

    /// Decompresses an array whose decompressed size is known.
    package func decompress(_ source: [UInt8], rawCount: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: rawCount)
        let n = try source.withUnsafeBytes { src in
            try output.withUnsafeMutableBytes { dst in try decompress(src, into: dst) }
        }
        guard n == rawCount else {
            throw CodecError(.corruptInput, "zstd frame decoded to \(n) bytes, expected \(rawCount)")
        }
        return output
    }
}
