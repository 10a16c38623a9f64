import Foundation

@testable import Gatehouse

/// Values shared by the test suites.
enum TestFixtures {
    /// The repository's fixture users.
    static let users: [[String: JSONValue]] = {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/users.json").path
        return try! FixtureUsers.load(fromFile: path)
    }()

    static let adaID = "f2005bd2b4a24b5e9d5f1c0e7a3b9c41"
    static let graceID = "7c1e9a4f03b24d6e8a5f2b9c0d1e3f47"
    static let alanID = "0b9d8c7e6f5a4b3c2d1e0f9a8b7c6d5e"

    /// The shared samples of the contract (`shared/samples`), when present beside the repository.
    static func sample(_ name: String) throws -> Data {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try Data(contentsOf: root.appendingPathComponent("Tests/GatehouseTests/Samples/\(name)"))
    }

    /// A configuration for tests: memory store, mock provider, plain-HTTP cookies.
    static func configuration(
        store: GatehouseConfiguration.Sessions.Store = .memory,
        sqlitePath: String = "unused.sqlite",
        revalidateAfter: TimeInterval = 30,
        idleTimeout: TimeInterval = 1800,
        absoluteTimeout: TimeInterval = 28800,
        kind: GatehouseConfiguration.Provider.Kind = .mock,
        apiURL: String = "http://127.0.0.1:9/mock-idp",
        hostedPageURL: String = "http://127.0.0.1:9/mock-idp/auth.aspx",
        timeoutSeconds: Double = 2,
        encryptionKey: Data? = Data(repeating: 7, count: 32)
    ) -> GatehouseConfiguration {
        GatehouseConfiguration(
            publicURL: "http://gatehouse.test",
            listen: .init(host: "127.0.0.1", port: 0),
            provider: .init(
                kind: kind,
                apiKey: "test-api-key",
                hostedPageURL: hostedPageURL,
                apiURL: apiURL,
                timeout: .milliseconds(Int64(timeoutSeconds * 1000))
            ),
            sessions: .init(
                store: store,
                sqlitePath: sqlitePath,
                cookieName: "gatehouse_session",
                secureCookies: false,
                lifetime: .init(idleTimeout: idleTimeout, absoluteTimeout: absoluteTimeout, revalidateAfter: revalidateAfter),
                encryptionKey: encryptionKey
            ),
            redirects: .init(),
            // Router tests come from no address: all would share one client's login rate.
            logins: .init(perClientPerMinute: 1_000_000)
        )
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension SessionCookies {
    /// The cookies of ``TestFixtures/configuration(store:sqlitePath:revalidateAfter:idleTimeout:absoluteTimeout:kind:apiURL:hostedPageURL:timeoutSeconds:encryptionKey:)``.
    static let forTests = SessionCookies(
        cookieName: "gatehouse_session",
        publicURL: "http://gatehouse.test",
        secure: false,
        sessionMaxAge: 28800,
        attemptMaxAge: 600
    )
}
