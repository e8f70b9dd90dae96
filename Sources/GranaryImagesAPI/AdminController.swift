import Foundation
import GranaryCatalog
import GranaryHTTP
import GranaryStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Operator routes beside the images API, admin only: store figures and online GC.
///
/// - `GET /admin/stats`: logical and stored bytes, dedup and compression ratios, dead bytes per
///   pack, the last GC run.
/// - `GET /admin/gc`: the runner's state (`idle`, `queued`, `running`), progress, last report.
/// - `POST /admin/gc`: queue a run (202); optional JSON body `{"grace": s, "dry_run": b,
///   "threshold": share}`; 409 while one is queued or running.
struct AdminController: Sendable {
    let store: BlobStore
    let gc: GCRunner

    func register(on router: RouterGroup<APIRequestContext>) {
        let admin = router.group("admin")
        admin.get("stats", use: stats)
        admin.get("gc", use: gcStatus)
        admin.post("gc", use: startGC)
    }

    private func requireAdmin(_ context: APIRequestContext) throws {
        guard context.caller.isAdmin else { throw GlanceError(.forbidden, "Only administrators may use /admin.") }
    }

    private func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        jsonResponse(bytes: try sortedJSON(value), status: status)
    }

    @Sendable func stats(_ request: Request, context: APIRequestContext) async throws -> Response {
        try requireAdmin(context)
        let stats = try store.stats()
        return try json(StatsReport(stats, lastGC: gc.status.last, detail: true))
    }

    @Sendable func gcStatus(_ request: Request, context: APIRequestContext) async throws -> Response {
        try requireAdmin(context)
        return try json(GCStatusDocument(gc.status))
    }

    @Sendable func startGC(_ request: Request, context: APIRequestContext) async throws -> Response {
        try requireAdmin(context)
        var options = gc.defaults
        let body = try await request.body.collect(upTo: 64 << 10)
        if body.readableBytes > 0 {
            guard let asked = try? JSONDecoder().decode(GCRequest.self, from: Data(body.readableBytesView)) else {
                throw GlanceError(
                    .badRequest, "The body must be a JSON object with optional grace (seconds ≥ 0), dry_run (boolean), threshold (0 < t ≤ 1).")
            }
            if let grace = asked.grace {
                guard grace >= 0 else { throw GlanceError(.badRequest, "grace must be 0 or more seconds") }
                options.grace = grace
            }
            if let threshold = asked.threshold {
                guard threshold > 0 && threshold <= 1 else { throw GlanceError(.badRequest, "threshold must be in (0, 1]") }
                options.threshold = threshold
            }
            options.dryRun = asked.dryRun ?? false
        }
        guard gc.request(options) else { throw GlanceError(.conflict, "A GC run is already \(gc.status.state.rawValue).") }
        return try json(GCStatusDocument(gc.status), status: .accepted)
    }
}

private struct GCRequest: Decodable {
    let grace: Int?
    let dryRun: Bool?
    let threshold: Double?
    enum CodingKeys: String, CodingKey {
        case grace, threshold
        case dryRun = "dry_run"
    }
}

private struct GCStatusDocument: Encodable {
    struct Progress: Encodable {
        let packsDone: Int
        let packsTotal: Int
        let bytesDone: Int
        let bytesTotal: Int
        enum CodingKeys: String, CodingKey {
            case packsDone = "packs_done"
            case packsTotal = "packs_total"
            case bytesDone = "bytes_done"
            case bytesTotal = "bytes_total"
        }
    }
    let state: String
    let progress: Progress?
    let startedAt: Int?
    let last: GCReport?
    let lastError: String?
    let nextRunAt: Int?
    enum CodingKeys: String, CodingKey {
        case state, progress, last
        case startedAt = "started_at"
        case lastError = "last_error"
        case nextRunAt = "next_run_at"
    }

    /// Absent values are shown as null, so clients see every key.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(progress, forKey: .progress)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(last, forKey: .last)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(nextRunAt, forKey: .nextRunAt)
    }

    init(_ status: GCRunner.Status) {
        state = status.state.rawValue
        progress = status.progress.map {
            Progress(packsDone: $0.packsDone, packsTotal: $0.packsTotal, bytesDone: $0.bytesDone, bytesTotal: $0.bytesTotal)
        }
        startedAt = status.startedAt
        last = status.last
        lastError = status.lastError
        nextRunAt = status.nextRunAt
    }
}
