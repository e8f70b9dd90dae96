import ArgumentParser
import GranaryServer
import Logging

/// `granary serve`: the images API (and, as it lands, the artifacts API) on one store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server: Glance v2 images API on --port, artifacts API on --artifacts-port.",
        discussion: "Holds the data directory's lock exclusively; crash recovery runs at start."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Images API port (default 9292, Glance's).")
    var port: Int?

    @Option(name: .customLong("artifacts-port"), help: "Artifacts API port (default 9494, Glare's).")
    var artifactsPort: Int?

    @Option(name: .customLong("client-header-timeout"), help: "Seconds a client has to send a request head (default 60).")
    var clientHeaderTimeout: Int?

    @Option(help: "Authentication: noauth, headers or keystone (default noauth).")
    var auth: String?

    @Option(name: .customLong("keystone-url"), help: "Keystone v3 URL, for --auth keystone.")
    var keystoneURL: String?

    func validate() throws {
        if let auth, AuthSetting(rawValue: auth) == nil {
            throw ValidationError("--auth must be noauth, headers or keystone, not '\(auth)'")
        }
    }

    func run() async throws {
        var flags: [String: String] = [:]
        flags["host"] = host
        flags["port"] = port.map(String.init)
        flags["artifacts_port"] = artifactsPort.map(String.init)
        flags["auth"] = auth
        flags["client_header_timeout"] = clientHeaderTimeout.map(String.init)
        flags["keystone_url"] = keystoneURL
        let settings = try await Settings.load(common: common, flags: flags)
        let granary = try await buildApplication(settings: settings, logger: makeLogger(level: settings.logLevel))
        try await granary.run()
    }
}

/// The process-wide logger, on standard error.
func makeLogger(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "granary")
    logger.logLevel = level
    return logger
}
