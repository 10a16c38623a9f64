import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Gatehouse

@Suite("Dashboard, logout and the rest of the routes")
struct SessionRoutesTests {
    @Test("without a session: browsers go to login, other clients get 401 JSON")
    func anonymousDashboard() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            let page = try await browser.get("/dashboard", accept: "text/html,application/xhtml+xml,*/*;q=0.8")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=/dashboard")
            let api = try await browser.get("/dashboard", accept: "application/json")
            #expect(api.status == .unauthorized)
            #expect(api.json == .object(["error": .string("not_authenticated"), "message": .string("You are not signed in.")]))
            #expect(try await browser.get("/dashboard", accept: "*/*").status == .unauthorized, "*/* is not a browser")
            #expect(try await browser.get("/dashboard", accept: "text/html;q=0").status == .unauthorized)
        }
    }

    @Test(
        "malformed, oversized, unknown and duplicated session cookies are no session, and are cleared",
        arguments: ["garbage", "", String(repeating: "A", count: 43), String(repeating: "x", count: 4000), "a%00b", "!!!!"]
    )
    func badCookies(_ value: String) async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let response = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: "gatehouse_session=\(value)"], body: nil)
            #expect(response.status == .unauthorized)
            if !value.isEmpty {
                #expect(setCookieHeader(named: "gatehouse_session", in: response.headers)?.contains("Max-Age=0") == true)
            }
        }
    }

    @Test("a live session cookie altered by one character, truncated or extended is no session")
    func tamperedCookies() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let valid = try #require(browser.jar["gatehouse_session"])
            let flipped = String(valid.dropLast()) + (valid.last == "A" ? "B" : "A")
            for value in [flipped, String(valid.dropLast()), String(valid.dropFirst()), valid + "A", valid + "%00"] {
                let response = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: "gatehouse_session=\(value)"], body: nil)
                #expect(response.status == .unauthorized, "\(value)")
            }
            #expect(try await browser.get("/dashboard").status == .ok, "the real cookie still works")
        }
    }

    @Test("a duplicated session cookie is no session, even when one copy is valid")
    func duplicatedCookies() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let valid = try #require(browser.jar["gatehouse_session"])
            #expect(try await browser.get("/dashboard").status == .ok)
            let other = SessionID.generate().cookieValue
            for header in [
                "gatehouse_session=\(valid); gatehouse_session=\(other)", "gatehouse_session=\(other); gatehouse_session=\(valid)",
                "gatehouse_session=\(valid); gatehouse_session=\(valid)",
            ] {
                let response = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: header], body: nil)
                #expect(response.status == .unauthorized, "\(header.prefix(60))")
            }
            var split = HTTPFields()
            split.append(HTTPField(name: .cookie, value: "gatehouse_session=\(valid)"))
            split.append(HTTPField(name: .cookie, value: "gatehouse_session=\(other)"))
            #expect(try await client.execute(uri: "/dashboard", method: .get, headers: split, body: nil).status == .unauthorized)
        }
    }

    @Test("with revalidation cached, the provider is asked once; with 0, on every request")
    func revalidationInterval() async throws {
        for (interval, expectedFetches) in [(30.0, 1), (0.0, 4)] {
            let harness = GatewayHarness(revalidateAfter: interval)
            try await harness.run { client in
                var browser = Browser(client)
                try await browser.logIn(directory: harness.directory)
                for _ in 0..<3 { #expect(try await browser.get("/dashboard").status == .ok) }
            }
            #expect(await harness.directory.profileFetchCount == expectedFetches, "revalidateAfter \(interval)")
        }
    }

    @Test("a token the provider now rejects ends the session: the next gated request has none")
    func rejectedOnRevalidation() async throws {
        let harness = GatewayHarness(revalidateAfter: 0)
        try await harness.run { client in
            var browser = Browser(client)
            let callback = try await browser.startLogin()
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            try await browser.get("\(callback)?token=\(token.value)")
            #expect(try await browser.get("/dashboard").status == .ok)
            await harness.directory.expire(token)
            let page = try await browser.get("/dashboard", accept: "text/html")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=/dashboard")
            #expect(setCookieHeader(named: "gatehouse_session", in: page.headers)?.contains("Max-Age=0") == true)
        }
        #expect(await harness.sessionCount == 0)
    }

    @Test("a provider outage during revalidation fails the request but keeps the session")
    func outageOnRevalidation() async throws {
        let harness = GatewayHarness(revalidateAfter: 0)
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            harness.provider.failRevalidations(with: .timedOut())
            let failed = try await browser.get("/dashboard")
            #expect(failed.status == .gatewayTimeout)
            #expect(failed.json?["error"] == .string("provider_timeout"))
            harness.provider.failRevalidations(with: nil)
            #expect(try await browser.get("/dashboard").status == .ok)
        }
    }

    @Test("logout (POST, JSON) revokes the token at the provider and ends the session")
    func logoutJSON() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            let callback = try await browser.startLogin()
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            try await browser.get("\(callback)?token=\(token.value)")
            let cookie = try #require(browser.jar["gatehouse_session"])
            let response = try await browser.post("/logout")
            #expect(response.status == .ok)
            #expect(response.json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(true)]))
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(setCookieHeader(named: "gatehouse_session", in: response.headers)?.contains("Max-Age=0") == true)
            #expect(await harness.directory.profile(apiKey: "k", token: token.value).status == 403, "the token is dead at the provider")
            var replay = Browser(client)
            replay.jar["gatehouse_session"] = cookie
            #expect(try await replay.get("/dashboard").status == .unauthorized)
        }
        #expect(await harness.sessionCount == 0)
    }

    @Test("logout (GET, browser) redirects to afterLogout; without a session it goes to /login or 401")
    func logoutBrowser() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let response = try await browser.get("/logout", accept: "text/html")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/")
            #expect(try await browser.get("/logout", accept: "text/html").headers[.location] == "/login")
            let api = try await browser.post("/logout")
            #expect(api.status == .unauthorized)
            #expect(api.json?["error"] == .string("not_authenticated"))
        }
    }

    @Test("when the provider cannot revoke, logout still ends the local session")
    func logoutProviderDown() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            harness.provider.failEndSessions(with: .unreachable(reason: "down"))
            let response = try await browser.post("/logout")
            #expect(response.status == .ok)
            #expect(response.json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(false)]))
            #expect(try await browser.get("/dashboard").status == .unauthorized)
        }
        #expect(await harness.sessionCount == 0)
    }

    @Test(
        "every route also answers with a trailing slash",
        arguments: ["/login/", "/register/", "/dashboard/", "/logout/", "/healthz/", "/readyz/", "/login/callback/abc/"]
    )
    func trailingSlash(_ path: String) async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let response = try await client.execute(uri: path, method: .get, headers: [:], body: nil)
            #expect(response.status != .notFound, "\(path)")
        }
    }

    @Test("HEAD answers as GET does, without the body; HEAD /logout ends no session (405)")
    func headRequests() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let signedIn = browser.jar.headers(accept: nil)
            for path in ["/healthz", "/readyz", "/dashboard", "/"] {
                let get = try await client.execute(uri: path, method: .get, headers: signedIn, body: nil)
                let head = try await client.execute(uri: path, method: .head, headers: signedIn, body: nil)
                #expect(head.status == get.status, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                #expect(head.body.readableBytes == 0, "\(path)")
            }
            let anonymous = try await client.execute(uri: "/dashboard", method: .head, headers: [.accept: "application/json"], body: nil)
            #expect(anonymous.status == .unauthorized)
            let logout = try await client.execute(uri: "/logout", method: .head, headers: signedIn, body: nil)
            #expect(logout.status == .methodNotAllowed)
            #expect(logout.headers[.allow] == "GET, POST")
            #expect(try await client.execute(uri: "/dashboard", method: .get, headers: signedIn, body: nil).status == .ok, "still signed in")
        }
    }

    @Test("trailing-slash login works end to end")
    func trailingSlashFlow() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            let callback = try await browser.startLogin("/login/")
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            #expect(try await browser.get("\(callback)/?token=\(token.value)").status == .seeOther)
            #expect(try await browser.get("/dashboard/").status == .ok)
        }
    }

    @Test("errors are JSON, or a short HTML page with a link to /login for browsers; security headers everywhere")
    func errorRendering() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let json = try await client.execute(uri: "/nope", method: .get, headers: [:], body: nil)
            #expect(json.status == .notFound)
            #expect(json.json?["error"] == .string("not_found"))
            #expect(json.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            let html = try await client.execute(uri: "/nope", method: .get, headers: [.accept: "text/html"], body: nil)
            #expect(html.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: html.body).contains(#"href="/login""#))
            #expect(html.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(try await client.execute(uri: "/healthz", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    @Test("the landing page shows who is signed in and offers a POST logout")
    func landingPage() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            #expect(String(buffer: try await browser.get("/").body).contains("not signed in"))
            try await browser.logIn(directory: harness.directory)
            let page = String(buffer: try await browser.get("/").body)
            #expect(page.contains("Ada Lovelace"))
            #expect(page.contains(#"method="post" action="/logout""#))
        }
    }

    @Test("the mock provider's hosted page is served under /mock-idp for provider.type mock")
    func mockHostedPage() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let page = try await client.execute(
                uri: "/mock-idp/auth.aspx?action=login&return_url=http%3A%2F%2Fgatehouse.test%2Flogin%2Fcallback%2Fs",
                method: .get,
                headers: [:],
                body: nil
            )
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("Ada Lovelace"))
            #expect(String(buffer: page.body).contains("http://gatehouse.test/login/callback/s"))
        }
    }

    @Test("no token or session id reaches the logs, at trace level")
    func logsStayClean() async throws {
        let harness = GatewayHarness(revalidateAfter: 0)
        let secrets = SecretsSeen()
        try await harness.run { client in
            var browser = Browser(client)
            let callback = try await browser.startLogin("/login?next=/dashboard")
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            secrets.add(token.value)
            try await browser.get("\(callback)?token=\(token.value)")
            secrets.add(try #require(browser.jar["gatehouse_session"]))
            try await browser.get("/dashboard")
            harness.provider.failRevalidations(with: .badResponse(reason: "x"))
            try await browser.get("/dashboard")
            harness.provider.failRevalidations(with: nil)
            try await browser.post("/logout")
        }
        #expect(harness.logs.count > 5)
        for secret in secrets.all { #expect(!harness.logs.allText.contains(secret)) }
    }
}

/// Secrets a test saw, to look for later.
final class SecretsSeen: Sendable {
    private let values = Mutex<[String]>([])
    func add(_ value: String) { values.withLock { $0.append(value) } }
    var all: [String] { values.withLock { $0 } }
}

@Suite("Cookies and identity over https")
struct SecureCookieTests {
    @Test(
        "with https and secure cookies every cookie is __Host- (Secure, Path=/, no Domain), and a name the operator gave __Host- itself logs in",
        arguments: ["gatehouse_session", "__Host-app"]
    )
    func hostPrefix(cookieName: String) async throws {
        var harness = GatewayHarness()
        harness.configuration.publicURL = "https://gatehouse.test"
        harness.configuration.sessions.secureCookies = true
        harness.configuration.sessions.cookieName = cookieName
        let expected = cookieName.hasPrefix("__Host-") ? cookieName : "__Host-" + cookieName
        let directory = harness.directory
        try await harness.run { client in
            let login = try await client.execute(uri: "/login", method: .get, headers: [:], body: nil)
            let attempt = try #require(login.headers[values: .setCookie].first { $0.hasPrefix(expected + "_state_") })
            for cookie in [attempt] {
                #expect(cookie.contains("; Secure") && cookie.contains("; Path=/") && !cookie.lowercased().contains("domain="), "\(cookie)")
            }
            var browser = Browser(client)
            let callback = try await browser.logIn(directory: directory)
            #expect(callback.status == .seeOther)
            let session = try #require(callback.headers[values: .setCookie].first { $0.hasPrefix(expected + "=") })
            #expect(session.contains("; Secure") && session.contains("; Path=/") && session.contains("HttpOnly") && !session.lowercased().contains("domain="))
            #expect(try await browser.get("/dashboard").status == .ok)
        }
    }

    @Test("a revalidation that answers for another user ends the session")
    func revalidationForAnotherUser() async throws {
        let harness = GatewayHarness(revalidateAfter: 0)
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            harness.provider.answerRevalidations(as: TestFixtures.graceID)
            #expect(try await browser.get("/auth").status == .unauthorized)
            #expect(await harness.sessionCount == 0)
            harness.provider.answerRevalidations(as: nil)
            #expect(try await browser.get("/auth").status == .unauthorized, "the session does not come back")
        }
    }
}
