import ArgumentParser

/// `gatehouse`: the login gateway and its mock identity provider.
@main
struct GatehouseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "A login gateway for hosted identity providers (OpenID Connect, LoginRadius).",
        subcommands: [ServeCommand.self, DemoCommand.self, MockIdPCommand.self, CheckConfigCommand.self, SessionsCommand.self]
    )
}
