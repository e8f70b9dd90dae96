import Foundation
import GranaryServer
import GranaryStore
import Logging

/// Opens the store of `settings` for a CLI run: with the exclusive lock when the store is idle
/// (then recovery runs), shared beside a live server otherwise (never repairing).
func openStore(_ settings: Settings, logger: Logger) throws -> BlobStore {
    let directory = try DataDirectory(path: settings.dataDirectory, access: .exclusiveIfFree)
    return try BlobStore(directory: directory, settings: settings.store, placement: try settings.packPlacement(), logger: logger)
}

/// Writes one JSON object per line on stdout (reports), keys sorted for stable diffs.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(UInt8(ascii: "\n"))
    FileHandle.standardOutput.write(data)
}

/// Megabytes (10^6 bytes) per second.
func mbps(bytes: Int, seconds: Double) -> Double {
    seconds > 0 ? (Double(bytes) / 1e6 / seconds * 10).rounded() / 10 : 0
}
