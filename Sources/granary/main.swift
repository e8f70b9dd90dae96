import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

// Exit codes are part of the operator contract: 0 success, 1 the operation failed or found
// problems, 2 a usage error. ArgumentParser's own usage code (64) is mapped to 2.
do {
    var command = try GranaryCommand.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(&asyncCommand)
    } else {
        try command.run()
    }
} catch {
    let code = GranaryCommand.exitCode(for: error)
    if code == .validationFailure {
        FileHandleOutput.standardError(GranaryCommand.fullMessage(for: error))
        exit(2)
    }
    GranaryCommand.exit(withError: error)
}

/// Opens the existential so the `async` requirement of `run()` is the one called.
func runAsync<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
    try await command.run()
}
