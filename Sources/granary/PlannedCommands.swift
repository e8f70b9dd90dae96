import ArgumentParser

/// Commands whose interface is fixed but whose engine is still being built: they say so and
/// exit 1 instead of pretending to work. Each names the capability it waits for.
struct NotImplementedYet: Error, CustomStringConvertible {
    let command: String
    let capability: String
    var description: String { "granary \(command) is not implemented yet (it arrives with the \(capability))" }
}

struct VerifyExternalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-external",
        abstract: "Re-fetch every external artifact location and report ok, changed or unreachable."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Print one JSON object per blob.") var json = false
    func run() async throws { throw NotImplementedYet(command: "verify-external", capability: "artifacts API") }
}
