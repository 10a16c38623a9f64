import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Gatehouse

/// `/auth` as Traefik's forwardAuth calls it, configured by the repository's own snippet
/// (`Deploy/traefik/gatehouse.yml`): the original request's headers (its cookies among them),
/// and Traefik's X-Forwarded-Method, -Proto, -Host, -Uri and -For.
@Suite("Traefik forward-auth conventions")
struct TraefikConventionsTests {
    /// The snippet's forwardAuth address path and authResponseHeaders.
    static func snippet() throws -> (path: String, responseHeaders: [String], trustsClientHeaders: Bool) {
        let url = GatehouseProcess.repositoryRoot.appendingPathComponent("Deploy/traefik/gatehouse.yml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let address = try #require(text.firstMatch(of: /address: "http:\/\/[^\/"]+(\/[^"]*)"/)?.output.1)
        let block = try #require(text.components(separatedBy: "authResponseHeaders:").dropFirst().first)
        let headers = block.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            .prefix { $0.trimmingCharacters(in: .whitespaces).hasPrefix("- ") }
            .map { $0.trimmingCharacters(in: .whitespaces).dropFirst(2).trimmingCharacters(in: .whitespaces) }
        return (String(address), headers, !text.contains("trustForwardHeader: false"))
    }

    /// What Traefik sends for a browser request of `uri`.
    static func forwarded(_ uri: String) -> HTTPFields {
        [
            HTTPField.Name("X-Forwarded-Method")!: "GET",
            HTTPField.Name("X-Forwarded-Proto")!: "https",
            HTTPField.Name("X-Forwarded-Host")!: "app.example.com",
            HTTPField.Name("X-Forwarded-Uri")!: uri,
            HTTPField.Name("X-Forwarded-For")!: "203.0.113.9",
            .accept: "text/html",
        ]
    }

    @Test("the snippet's address and response headers are what /auth answers: identity for a session, 401 without, 403 for a refused prefix")
    func answersTraefik() async throws {
        let snippet = try Self.snippet()
        #expect(snippet.path == "/auth")
        #expect(!snippet.trustsClientHeaders, "Traefik must replace a client's X-Forwarded-* with its own")
        #expect(
            Set(snippet.responseHeaders) == [
                "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token",
            ]
        )

        var harness = GatewayHarness()
        harness.configuration.access.policy = AccessPolicy(routes: [
            .init(pathPrefix: "/public/", requirement: .public),
            .init(pathPrefix: "/admin/", requirement: .rules(AccessRule(allowGroups: ["admins"]))),
        ])
        let directory = harness.directory
        try await harness.run(.live) { client in
            var anonymous = Browser(client)
            #expect(try await anonymous.get(snippet.path, headers: Self.forwarded("/app/")).status == .unauthorized)
            let open = try await anonymous.get(snippet.path, headers: Self.forwarded("/public/index.html?lang=en"))
            #expect(open.status == .ok)
            #expect(snippet.responseHeaders.allSatisfy { open.headers[HTTPField.Name($0)!] == nil })

            var grace = Browser(client)
            try await grace.logIn(as: TestFixtures.graceID, directory: directory)
            #expect(try await grace.get(snippet.path, headers: Self.forwarded("/admin/settings")).status == .forbidden)

            var ada = Browser(client)
            try await ada.logIn(directory: directory)
            let admin = try await ada.get(snippet.path, headers: Self.forwarded("/admin/settings"))
            #expect(admin.status == .ok)
            let answered = snippet.responseHeaders.map { admin.headers[HTTPField.Name($0)!] }
            #expect(answered == [TestFixtures.adaID, "ada@example.com", "admins,staff", "adalovelace", nil], "no access token unless passAccessToken")
        }
    }
}
