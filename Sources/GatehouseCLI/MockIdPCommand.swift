import ArgumentParser
import Gatehouse
import Hummingbird
import NIOCore

/// `gatehouse mock-idp --port N`: the LoginRadius-compatible mock provider on its own.
struct MockIdPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-idp",
        abstract: "Run the LoginRadius-compatible mock identity provider (hosted login page and API)."
    )

    @Option(help: "The port to listen on (0 picks a free one).")
    var port: Int

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The fixture users file.")
    var fixtures: String = FixtureUsers.locateDefault()

    @Option(help: "Insist on this API key (by default any non-empty key is accepted).")
    var apiKey: String?

    @Option(help: "How long issued tokens stay valid, in seconds.")
    var tokenLifetime: Int = 3600

    @Option(
        help: ArgumentHelp(
            "Also accept this token, for this user, until it is invalidated (for scripts and benchmarks); TOKEN ending in * accepts every token that begins so.",
            valueName: "TOKEN:UID"
        )
    )
    var fixedToken: [String] = []

    @Option(
        help: ArgumentHelp(
            "Register an OpenID Connect client (SECRET left out: a public client); it may use any loopback redirect URI. gatehouse-demo (secret gatehouse-demo-secret) and gatehouse-demo-public are always registered.",
            valueName: "ID[:SECRET]"
        )
    )
    var oidcClient: [String] = []

    @Option(
        help: ArgumentHelp(
            "Also accept OpenID Connect codes no page issued, open.NONCE.CHALLENGE.ANY, as this user's (for benchmarks: logins without the page; PKCE is still checked).",
            valueName: "UID"
        )
    )
    var openCodesFor: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let (logger, _) = logging.makeLogger(label: "gatehouse.mock-idp")
        let users: [[String: JSONValue]]
        do {
            users = try FixtureUsers.load(fromFile: fixtures)
        } catch {
            Console.error("gatehouse mock-idp: \(error)")
            throw ExitCode.failure
        }
        let directory = MockDirectory(users: users, configuration: .init(tokenLifetime: .seconds(tokenLifetime), apiKey: apiKey))
        for fixed in fixedToken {
            let parts = fixed.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0].hasSuffix("*"), AccessToken(validating: String(parts[0].dropLast())) != nil,
                await directory.addTokenFamily(prefix: String(parts[0].dropLast()), forUserID: parts[1])
            {
                continue
            }
            guard parts.count == 2, let token = AccessToken(validating: parts[0]), await directory.addFixedToken(token, forUserID: parts[1]) else {
                Console.error("gatehouse mock-idp: --fixed-token must be TOKEN:UID with a well-formed token and a fixture user's Uid")
                throw ExitCode.failure
            }
        }
        let clients = oidcClient.map { entry in
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            return MockOpenIDProvider.Client(id: parts[0], secret: parts.count > 1 ? parts[1] : nil)
        }
        let openID = await MockOpenIDProvider(directory: directory, clients: [.demo, .demoPublic] + clients)
        if let openCodesFor, await !openID.acceptOpenCodes(forUserID: openCodesFor) {
            Console.error("gatehouse mock-idp: --open-codes-for must be a fixture user's Uid")
            throw ExitCode.failure
        }
        let host = self.host
        let app = await buildMockProviderApplication(directory: directory, openID: openID, host: host, port: port, logger: logger) { channel in
            let port = channel.localAddress?.port ?? 0
            Console.out("Mock identity provider listening on http://\(host):\(port)")
            Console.out("  hosted page: http://\(host):\(port)/auth.aspx?action=login&return_url=URL")
            Console.out("  API:         http://\(host):\(port)/identity/v2/auth/account (and access_token/validate, access_token/invalidate)")
            Console.out("  OpenID:      issuer http://\(host):\(port), discovery at /.well-known/openid-configuration")
        }
        try await app.runService()
    }
}
