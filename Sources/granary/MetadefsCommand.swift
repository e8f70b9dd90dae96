import ArgumentParser
import Foundation
import GranaryCatalog
import GranaryIndex
import GranaryParsing
import GranaryServer

/// `granary metadefs load`: Glance's `glance-manage db_load_metadefs`, reading the same
/// namespace files (Glance ships them in `etc/metadefs/`), so that UIs find the usual catalog.
struct MetadefsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadefs",
        abstract: "Manage metadata definitions.",
        subcommands: [Load.self]
    )

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load metadata-definition namespaces from Glance-format JSON files.",
            discussion: """
                PATH is one file or a directory whose *.json files are read (one namespace each, in the shape of a \
                POST /v2/metadefs/namespaces body). A namespace that exists is skipped unless --merge adds what it lacks \
                (--prefer-new: the files' versions win) or --overwrite replaces it. Prints one JSON object per file with \
                --json: {"file","namespace","result"} (created, skipped, merged, overwritten or failed, with "error"). \
                Exit status 1 when a file failed. Safe beside a running server.
                """
        )
        @OptionGroup var common: CommonOptions
        @Flag(help: "Add what an existing namespace lacks.") var merge = false
        @Flag(help: "With --merge: the files' versions replace the stored ones.") var preferNew = false
        @Flag(help: "With --merge: replace existing namespaces whole.") var overwrite = false
        @Flag(help: "Print one JSON object per file.") var json = false
        @Argument(help: "A namespace file, or a directory of them.") var path: String

        struct Report: Encodable {
            let file: String
            let namespace: String?
            let result: String
            let error: String?
        }

        func validate() throws {
            if (preferNew || overwrite) && !merge { throw ValidationError("--prefer-new and --overwrite need --merge (as in Glance)") }
            if preferNew && overwrite { throw ValidationError("--prefer-new and --overwrite exclude each other") }
        }

        func run() async throws {
            let settings = try await Settings.load(common: common)
            let files = try namespaceFiles()
            let catalog = try MetadefCatalog(store: try openStore(settings, logger: makeLogger(level: settings.logLevel)))
            let mode: MetadefCatalog.LoadMode = overwrite ? .overwrite : merge ? .merge(preferNew: preferNew) : .skipExisting
            var failures = 0
            for file in files {
                let report: Report
                do {
                    let data = try Data(contentsOf: URL(fileURLWithPath: file))
                    guard let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
                        throw CatalogError(.badRequest, "malformed JSON")
                    }
                    guard case .object(let body) = value else { throw CatalogError(.badRequest, "expected a JSON object (one namespace)") }
                    let (namespace, outcome) = try await catalog.load(body, mode: mode)
                    report = Report(file: file, namespace: namespace, result: outcome.rawValue, error: nil)
                } catch {
                    failures += 1
                    report = Report(file: file, namespace: nil, result: "failed", error: "\(error)")
                }
                if json { try printJSON(report) }
                FileHandleOutput.standardError(
                    "\(report.file): \(report.result)\(report.namespace.map { " \($0)" } ?? "")\(report.error.map { ": \($0)" } ?? "")")
            }
            if failures > 0 { throw ExitCode(1) }
        }

        /// The file itself, or the directory's `*.json` files in name order.
        private func namespaceFiles() throws -> [String] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path) does not exist")
            }
            guard isDirectory.boolValue else { return [path] }
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }.sorted()
            guard !names.isEmpty else { throw ValidationError("no *.json files in \(path)") }
            return names.map { (path as NSString).appendingPathComponent($0) }
        }
    }
}
