import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gatehouse

@Suite("Forward auth (/auth for nginx auth_request)")
struct ForwardAuthTests {
    static let user = HTTPField.Name("X-Auth-Request-User")!
    static let email = HTTPField.Name("X-Auth-Request-Email")!

    /// Headers a client could send to pretend a proxy already vouched for it.
    static let spoofed: HTTPFields = [
        HTTPField.Name("X-Auth-Request-User")!: TestFixtures.adaID,
        HTTPField.Name("X-Forwarded-User")!: TestFixtures.adaID,
        HTTPField.Name("X-Original-URI")!: "/public",
        HTTPField.Name("X-Forwarded-Uri")!: "/healthz",
        HTTPField.Name("X-Forwarded-Host")!: "gatehouse.test",
        HTTPField.Name("X-Forwarded-For")!: "127.0.0.1",
        .accept: "text/html",
    ]

    @Test("a live session is 200 with the user's id and email; no session is 401 with an empty body, whatever the headers say")
    func answers() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let anonymous = try await client.execute(uri: "/auth", method: .get, headers: Self.spoofed, body: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.body.readableBytes == 0)
            #expect(anonymous.headers[.location] == nil, "the proxy, not /auth, sends browsers to the login page")
            #expect(anonymous.headers[Self.user] == nil)

            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let signedIn = try await browser.get("/auth")
            #expect(signedIn.status == .ok)
            #expect(signedIn.headers[Self.user] == TestFixtures.adaID)
            #expect(signedIn.headers[Self.email] == "ada@example.com")
            #expect(signedIn.headers[.cacheControl] == "no-store")

            try await browser.post("/logout")
            #expect(try await browser.get("/auth").status == .unauthorized)
        }
    }

    @Test(
        "a sign-in whose user id is empty, blank or not header-safe gets no session: /auth never says yes without a user",
        arguments: ["", " ", "\t", "Zoë", "id\r\nX-Injected: 1", "a b", String(repeating: "x", count: 256)]
    )
    func uncarriableUserID(id: String) async throws {
        let harness = GatewayHarness()
        harness.provider.renameProfiles(to: id)
        try await harness.run { client in
            var browser = Browser(client)
            let callback = try await browser.logIn(directory: harness.directory)
            #expect(callback.status == .badGateway)
            #expect(callback.json?.objectValue?["error"] == .string("provider_bad_response"))
            #expect(await harness.sessionCount == 0)
            let auth = try await browser.get("/auth")
            #expect(auth.status == .unauthorized)
            #expect(auth.headers[Self.user] == nil)
        }
    }

    @Test("a token the provider now rejects is 401 at /auth, and the session is gone")
    func rejectedToken() async throws {
        let harness = GatewayHarness(revalidateAfter: 0)
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            harness.provider.failRevalidations(with: .tokenRejected(code: 905, reason: "Access token is invalid"))
            #expect(try await browser.get("/auth").status == .unauthorized)
            #expect(await harness.sessionCount == 0)
        }
    }
}
