import ArgumentParser

/// `gatehouse`: the login gateway and its mock identity provider.
@main
struct GatehouseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "A login gateway for hosted identity providers (LoginRadius and compatible).",
        subcommands: [ServeCommand.self, DemoCommand.self, MockIdPCommand.self, CheckConfigCommand.self]
    )
}
