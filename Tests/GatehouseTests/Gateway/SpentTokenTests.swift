import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import Gatehouse

/// What one token from the provider can buy: one session, of bounded size; and what a link from
/// another site can do to a session: nothing without the user.
@Suite("One token, one session")
struct SpentTokenTests {
    @Test("a callback replayed with a state of the sender's own opens no second session (401 token_used)")
    func replayedToken() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var victim = Browser(client)
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            let first = try await victim.get("\(try await victim.startLogin())?token=\(token.value)")
            #expect(first.status == .seeOther)
            #expect(await harness.sessionCount == 1)

            // The callback URL leaked: another browser starts a login of its own and hands in the token.
            var attacker = Browser(client)
            let replay = try await attacker.get("\(try await attacker.startLogin())?token=\(token.value)", accept: "application/json")
            #expect(replay.status == .unauthorized)
            #expect(replay.json?["error"] == .string("token_used"))
            #expect(attacker.jar["gatehouse_session"] == nil)
            #expect(await harness.sessionCount == 1, "no second session")
            #expect(!String(buffer: replay.body).contains(token.value))

            // The first session is untouched.
            #expect(try await victim.get("/dashboard", accept: "application/json").status == .ok)
        }
    }

    @Test("a token whose revocation failed at logout cannot open a session again")
    func unrevokedTokenDenied() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            // A session from before spent tokens were recorded: its token was never marked at login.
            let token = AccessToken("legacy-token-\(UUID().uuidString)")
            #expect(await harness.directory.addFixedToken(token, forUserID: TestFixtures.adaID))
            let profile = try #require(await harness.directory.user(withID: TestFixtures.adaID))
            let (legacy, _) = try await SessionManager(store: harness.store, configuration: .init())
                .start(SignIn(credentials: Credentials(accessToken: token), profile: profile))

            var browser = Browser(client)
            browser.jar["gatehouse_session"] = legacy.cookieValue
            harness.provider.failEndSessions(with: .unreachable(reason: "test"))
            let logout = try await browser.post("/logout", accept: "application/json")
            #expect(logout.json?["providerRevoked"] == .bool(false))

            // The provider still takes the token, but the gateway does not.
            #expect(await harness.directory.liveUserID(forToken: token.value) == TestFixtures.adaID)
            var other = Browser(client)
            let reuse = try await other.get("\(try await other.startLogin())?token=\(token.value)", accept: "application/json")
            #expect(reuse.status == .unauthorized)
            #expect(reuse.json?["error"] == .string("token_used"))
            #expect(await harness.sessionCount == 0)
        }
    }

    @Test("a profile over 64 KiB is refused at login (502, no session, revoked) and at revalidation (502, the session kept as it was)")
    func oversizedProfile() async throws {
        let harness = GatewayHarness(revalidateAfter: 0)
        try await harness.run { client in
            harness.provider.padProfiles(with: UserProfile.maximumSize)
            var browser = Browser(client)
            let invalidations = await harness.directory.invalidationCount
            let login = try await browser.logIn(directory: harness.directory)
            #expect(login.status == .badGateway)
            #expect(String(buffer: login.body).contains("64 KiB"))
            #expect(await harness.sessionCount == 0)
            #expect(await harness.directory.invalidationCount == invalidations + 1, "what the provider issued is revoked")

            // Just under the limit signs in; a profile that grows past it later is not stored.
            harness.provider.padProfiles(with: UserProfile.maximumSize - 1024)
            #expect(try await browser.logIn(directory: harness.directory).status == .seeOther)
            #expect(try await browser.get("/dashboard", accept: "application/json").status == .ok)
            harness.provider.padProfiles(with: UserProfile.maximumSize)
            let grown = try await browser.get("/dashboard", accept: "application/json")
            #expect(grown.status == .badGateway)
            #expect(grown.json?["error"] == .string("profile_too_large"))
            #expect(await harness.sessionCount == 1, "the session stays for when the provider answers within bounds")
            let id = try #require(browser.jar["gatehouse_session"].flatMap(SessionID.init(cookieValue:)))
            let stored = try #require(try await harness.store.session(for: id.storageKey))
            #expect(stored.profile.json.count < UserProfile.maximumSize)
        }
    }

    @Test("GET /logout from another site shows a page with a button and logs nobody out; the button's POST does")
    func crossSiteLogout() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            #expect(try await browser.logIn(directory: harness.directory).status == .seeOther)
            for site in ["cross-site", "same-site"] {
                let page = try await browser.get("/logout", headers: [HTTPField.Name("Sec-Fetch-Site")!: site, .accept: "text/html"])
                #expect(page.status == .ok, "\(site)")
                #expect(String(buffer: page.body).contains(#"<form class="inline" method="post" action="/logout">"#))
                #expect(page.headers[.setCookie] == nil, "the session cookie is left alone")
                #expect(await harness.sessionCount == 1, "\(site): nobody was logged out")
            }
            #expect(try await browser.get("/dashboard", accept: "application/json").status == .ok)

            // The user's own click (same-origin) logs out, as does a GET without the header (a script).
            let posted = try await browser.post("/logout", accept: "application/json")
            #expect(posted.json?["loggedOut"] == .bool(true))
            #expect(await harness.sessionCount == 0)
            #expect(try await browser.logIn(directory: harness.directory).status == .seeOther)
            let own = try await browser.get("/logout", headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-origin", .accept: "application/json"])
            #expect(own.json?["loggedOut"] == .bool(true))
            #expect(await harness.sessionCount == 0)
        }
    }
}
