package import Foundation

/// The result of `granary bench upload`. The first keys are the contract operators' scripts
/// read (`mbps` … `errors`); the rest are extra detail after them.
package struct UploadReport: Sendable {
    /// Uploaded bytes (10^6 per MB) per second of the timed run (create, upload, verify).
    package let mbps: Double
    package let imagesPerSecond: Double
    /// Bytes of the uploads that succeeded.
    package let bytes: Int
    package let count: Int
    package let concurrency: Int
    package let createMs: LatencySummary
    package let uploadMs: LatencySummary
    package let downloadMs: LatencySummary
    /// Count by HTTP status ("409"), `checksum`, `size`, `connection`, …; empty when none.
    package let errors: [String: Int]

    package let seconds: Double
    package let imagesUploaded: Int
    package let downloadMbps: Double
    /// This process's CPU during the timed run, and per 10^9 bytes uploaded: the client's cost.
    package let clientCPUSeconds: Double
    package let clientCPUSecondsPerGB: Double
    package let downloadClientCPUSeconds: Double
    package let precomputeSeconds: Double
    package let osHashAlgo: String?

    package var hasErrors: Bool { !errors.isEmpty }

    /// The one JSON object `--json` prints, keys in the documented order.
    package func json() -> Data {
        BenchJSON.object([
            ("mbps", .number(mbps)), ("images_per_s", .number(imagesPerSecond)), ("bytes", .integer(bytes)),
            ("count", .integer(count)), ("concurrency", .integer(concurrency)), ("create_ms", .latency(createMs)),
            ("upload_ms", .latency(uploadMs)), ("download_ms", .latency(downloadMs)), ("errors", .counts(errors)),
            ("seconds", .number(seconds)), ("images_uploaded", .integer(imagesUploaded)),
            ("download_mbps", .number(downloadMbps)), ("client_cpu_seconds", .number(clientCPUSeconds)),
            ("client_cpu_seconds_per_gb", .number(clientCPUSecondsPerGB)),
            ("download_client_cpu_seconds", .number(downloadClientCPUSeconds)),
            ("precompute_seconds", .number(precomputeSeconds)), ("os_hash_algo", .string(osHashAlgo)),
        ])
    }
}

/// The result of `granary bench metadata`: rates of data-less image calls.
package struct MetadataReport: Sendable {
    package let createsPerSecond: Double
    /// Page requests (`GET /v2/images?limit=…`, following `next`) per second.
    package let listsPerSecond: Double
    package let patchesPerSecond: Double
    package let deletesPerSecond: Double
    package let count: Int
    package let concurrency: Int
    package let createMs: LatencySummary
    package let listMs: LatencySummary
    package let patchMs: LatencySummary
    package let deleteMs: LatencySummary
    package let errors: [String: Int]

    package let listPages: Int
    package let listPasses: Int
    package let clientCPUSeconds: Double

    package var hasErrors: Bool { !errors.isEmpty }

    /// The one JSON object `--json` prints, keys in the documented order.
    package func json() -> Data {
        BenchJSON.object([
            ("creates_per_s", .number(createsPerSecond)), ("lists_per_s", .number(listsPerSecond)),
            ("patches_per_s", .number(patchesPerSecond)), ("deletes_per_s", .number(deletesPerSecond)),
            ("count", .integer(count)), ("concurrency", .integer(concurrency)), ("create_ms", .latency(createMs)),
            ("list_ms", .latency(listMs)), ("patch_ms", .latency(patchMs)), ("delete_ms", .latency(deleteMs)),
            ("errors", .counts(errors)), ("list_pages", .integer(listPages)), ("list_passes", .integer(listPasses)),
            ("client_cpu_seconds", .number(clientCPUSeconds)),
        ])
    }
}

/// The reports' JSON, written by hand so keys come out in the documented order (JSONEncoder
/// on Linux does not keep it) and numbers as plain JSON numbers.
enum BenchJSON {
    enum Value {
        case number(Double)
        case integer(Int)
        case string(String?)
        case latency(LatencySummary)
        case counts([String: Int])
    }

    static func object(_ fields: [(String, Value)]) -> Data {
        var text = "{"
        for (n, (key, value)) in fields.enumerated() {
            if n > 0 { text += "," }
            text += quoted(key) + ":"
            switch value {
            case .number(let number): text += number.isFinite ? "\(number)" : "0"
            case .integer(let integer): text += String(integer)
            case .string(let string): text += string.map(quoted) ?? "null"
            case .latency(let summary):
                text += "{\"p50\":\(summary.p50),\"p90\":\(summary.p90),\"p99\":\(summary.p99),\"max\":\(summary.max)}"
            case .counts(let counts):
                text += "{" + counts.keys.sorted().map { quoted($0) + ":" + String(counts[$0] ?? 0) }.joined(separator: ",") + "}"
            }
        }
        return Data((text + "}").utf8)
    }

    /// A JSON string literal (the keys and values here are ASCII words; escapes cover the rest).
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Rounds a rate or a number of seconds for a report: enough digits, no noise.
    static func round(_ value: Double, _ digits: Double = 1000) -> Double {
        value.isFinite ? (value * digits).rounded() / digits : 0
    }
}
