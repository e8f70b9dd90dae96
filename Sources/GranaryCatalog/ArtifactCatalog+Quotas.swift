import Foundation
import GranaryIndex
import GranaryLMDB
package import GranaryParsing
import GranaryStore

/// Per-project quotas (reference glare.md §1.2): `max_artifact_number` and `max_uploaded_data`,
/// overall and per type (`max_artifact_number:<type>`), -1 for unlimited. A project's own value
/// wins over the server default (`artifacts.max_artifact_number`, …). Usage is counted by the
/// index in the same transactions that change it, so a check is a key read, not a scan.
extension ArtifactCatalog {
    package static let quotaNames = ["max_artifact_number", "max_uploaded_data"]

    /// Checks a quota name (`name` or `name:type` with a known type).
    func validQuotaName(_ name: String) -> Bool {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, Self.quotaNames.contains(first), parts.count <= 2 else { return false }
        return parts.count == 1 || registry.types[parts[1]] != nil  // checked: count is 2 here
    }

    /// The limit of `name` for `project` and `type`: the project's value, else the default.
    func limits(_ name: String, project: String, type: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> (all: Int, type: Int)
    {
        let own = try index.quotas(of: project, in: txn)
        func value(_ key: String) -> Int { own[key] ?? defaultQuotas[key] ?? -1 }
        return (value(name), value(name + ":" + type))
    }

    /// 403 when one more artifact of `type` would pass the owner's count quota.
    func checkCountQuota(_ artifact: ArtifactRecord, in txn: borrowing WriteTransaction) throws {
        guard let owner = artifact.owner else { return }
        let limit = try limits("max_artifact_number", project: owner, type: artifact.typeName, in: txn)
        let all = try index.usage(owner: owner, type: nil, in: txn).count
        let typed = try index.usage(owner: owner, type: artifact.typeName, in: txn).count
        if (limit.all >= 0 && all >= limit.all) || (limit.type >= 0 && typed >= limit.type) {
            throw CatalogError(.forbidden, "Project \(owner) has reached its max_artifact_number quota.")
        }
    }

    /// Bytes the owner may still upload for `type` (Int.max when unlimited).
    func remainingBytes(owner: String?, type: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        guard let owner else { return .max }
        let limit = try limits("max_uploaded_data", project: owner, type: type, in: txn)
        var remaining = Int.max
        if limit.all >= 0 { remaining = min(remaining, limit.all - (try index.usage(owner: owner, type: nil, in: txn).bytes)) }
        if limit.type >= 0 { remaining = min(remaining, limit.type - (try index.usage(owner: owner, type: type, in: txn).bytes)) }
        return max(0, remaining)
    }

    /// `PUT /quotas` (admin): replaces every quota of each project listed.
    package func setQuotas(_ body: JSONValue, caller: Caller) async throws {
        guard caller.isAdmin else { throw CatalogError(.forbidden, "Only administrators set quotas.") }
        guard case .array(let entries) = body else {
            throw CatalogError(.badRequest, "Quotas are a list of {\"project_id\", \"project_quotas\": [{\"quota_name\", \"quota_value\"}]}.")
        }
        var parsed: [(String, [String: Int])] = []
        for entry in entries {
            guard case .object(let fields) = entry, case .string(let project)? = fields["project_id"], !project.isEmpty, project.utf8.count <= 255,
                !project.contains("\0"),
                case .array(let quotas)? = fields["project_quotas"]
            else { throw CatalogError(.badRequest, "Each entry needs a project_id and a project_quotas list.") }
            var values: [String: Int] = [:]
            for quota in quotas {
                guard case .object(let q) = quota, case .string(let name)? = q["quota_name"], case .number(let number)? = q["quota_value"],
                    let value = DecimalText.integer(exactly: number), value >= -1, value < 1_000_000_000_000_000_000
                else { throw CatalogError(.badRequest, "A quota is {\"quota_name\": string, \"quota_value\": integer ≥ -1}.") }
                guard validQuotaName(name) else { throw CatalogError(.badRequest, "Unknown quota '\(name)'.") }
                values[name] = value
            }
            parsed.append((project, values))
        }
        let settled = parsed
        try await store.coordinator.submit { txn in
            for (project, values) in settled { try self.index.setQuotas(values, of: project, in: txn) }
        }
    }

    /// `GET /quotas` (admin): every project's quotas and the server defaults.
    package func allQuotas(caller: Caller) throws -> (projects: [(String, [String: Int])], defaults: [String: Int]) {
        guard caller.isAdmin else { throw CatalogError(.forbidden, "Only administrators list all quotas.") }
        return try store.environment.read { txn in
            (try index.quotaProjects(in: txn).map { ($0, try index.quotas(of: $0, in: txn)) }, defaultQuotas)
        }
    }

    /// `GET /project-quotas[/{project}]`: the quotas that apply to a project (the defaults with
    /// its own values over them); one's own project, or any for an admin.
    package func projectQuotas(_ project: String?, caller: Caller) throws -> (String, [String: Int]) {
        guard let project = project ?? caller.projectID else { throw CatalogError(.badRequest, "Name a project: the caller has none.") }
        guard caller.isAdmin || project == caller.projectID else {
            throw CatalogError(.forbidden, "Only administrators read another project's quotas.")
        }
        let own = try store.environment.read { txn in try index.quotas(of: project, in: txn) }
        return (project, defaultQuotas.merging(own) { _, mine in mine })
    }
}
