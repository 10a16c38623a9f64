import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Testing

@testable import Gatehouse

@Suite("Login flow")
struct LoginFlowTests {
    @Test("login → hosted page → callback → dashboard, with the contract's cookies and headers")
    func fullLogin() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            let login = try await browser.get("/login")
            #expect(login.status == .seeOther)
            let location = try #require(login.headers[.location])
            #expect(location.hasPrefix("http://127.0.0.1:9/mock-idp/auth.aspx?action=login&return_url=http%3A%2F%2Fgatehouse.test%2Flogin%2Fcallback%2F"))
            let attemptCookies = setCookieHeaders(prefixed: "gatehouse_session_state_", in: login.headers)
            #expect(attemptCookies.count == 1)
            let stateCookie = try #require(attemptCookies.first)
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"] { #expect(stateCookie.contains(attribute)) }
            let state = try #require(location.split(separator: "%2F").last.map(String.init))
            #expect(Base64URL.decode(state)?.count == 32)
            let (attemptName, sealed) = try #require(browser.jar.attempts().first)
            #expect(!sealed.contains(state), "the attempt is sealed: the cookie does not show the state")
            #expect(attemptName == SessionCookies.forTests.attemptName(for: state), "the cookie is this attempt's own")

            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            let callback = try await browser.get("/login/callback/\(state)?token=\(token.value)")
            #expect(callback.status == .seeOther)
            #expect(callback.headers[.location] == "/dashboard")
            #expect(callback.headers[.cacheControl] == "no-store")
            let sessionCookie = try #require(setCookieHeader(named: "gatehouse_session", in: callback.headers))
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] { #expect(sessionCookie.contains(attribute)) }
            #expect(!sessionCookie.contains("Secure"), "secureCookies is false in this configuration")
            let sessionID = try #require(browser.jar["gatehouse_session"])
            #expect(SessionID(cookieValue: sessionID) != nil)
            #expect(!sessionID.contains(token.value))
            #expect(browser.jar.attempts().isEmpty, "the attempt's cookie is cleared")

            let dashboard = try await browser.get("/dashboard")
            #expect(dashboard.status == .ok)
            #expect(dashboard.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(dashboard.headers[.cacheControl] == "no-store")
            #expect(dashboard.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(dashboard.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            let body = try #require(dashboard.json)
            #expect(body["user"] == .object(["id": .string(TestFixtures.adaID), "email": .string("ada@example.com"), "name": .string("Ada Lovelace")]))
            #expect(body["profile"]?["Uid"] == .string(TestFixtures.adaID))
            #expect(body["profile"]?["Country"]?["Name"] == .string("United Kingdom"))
            #expect(!String(buffer: dashboard.body).contains(token.value))
        }
        #expect(await harness.sessionCount == 1)
    }

    @Test("register sends the browser to the hosted page with action=register")
    func register() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            let response = try await browser.get("/register?next=/reports")
            #expect(response.headers[.location]?.contains("?action=register&return_url=") == true)
            let callback = try await browser.logIn(via: "/register?next=/reports", directory: harness.directory)
            #expect(callback.headers[.location] == "/reports")
        }
    }

    @Test("next is honoured when it is a local path, and falls back when it is not")
    func next() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            for (next, expected) in [
                ("/reports?id=7", "/reports?id=7"), ("%2Freports", "/reports"), ("//evil.example", "/dashboard"),
                ("https%3A%2F%2Fevil.example", "/dashboard"), ("%2F%2Fevil.example", "/dashboard"), ("/%5Cevil.example", "/dashboard"),
                ("%2F%09%2Fevil.example", "/dashboard"),
            ] {
                var browser = Browser(client)
                let callback = try await browser.logIn(via: "/login?next=\(next)", directory: harness.directory)
                #expect(callback.headers[.location] == expected, "next=\(next)")
            }
        }
    }

    @Test("a callback whose state does not match the browser's cookie is 403 and makes no session")
    func stateMismatch() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var victim = Browser(client)
            let victimCallback = try await victim.startLogin()
            var attacker = Browser(client)
            _ = try await attacker.startLogin()
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            // The attacker's browser (another state cookie) replays the victim's callback.
            let response = try await attacker.get("\(victimCallback)?token=\(token.value)")
            #expect(response.status == .forbidden)
            #expect(response.json?["error"] == .string("state_mismatch"))
            #expect(attacker.jar["gatehouse_session"] == nil)
            // No state cookie at all.
            var bare = Browser(client)
            #expect(try await bare.get("\(victimCallback)?token=\(token.value)").status == .forbidden)
            // The state's own browser still succeeds, once.
            let attemptCookie = victim.jar.attempts()
            #expect(try await victim.get("\(victimCallback)?token=\(token.value)").status == .seeOther)
            // The browser kept the cookie (or an attacker copied it): the state is still spent.
            for (name, value) in attemptCookie { victim.jar[name] = value }
            #expect(try await victim.get("\(victimCallback)?token=\(token.value)").status == .forbidden, "a state is single-use")
        }
        #expect(await harness.sessionCount == 1)
    }

    @Test("three tabs of one browser each log in, in any order; a fourth displaces only the oldest attempt")
    func severalTabs() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            let first = try await browser.startLogin("/login?next=/one")
            let second = try await browser.startLogin("/register?next=/two")
            let third = try await browser.startLogin("/login?next=/three")
            #expect(browser.jar.attempts().count == 3, "one cookie per attempt")
            for (callback, next) in [(second, "/two"), (third, "/three"), (first, "/one")] {
                let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
                let response = try await browser.get("\(callback)?token=\(token.value)")
                #expect(response.status == .seeOther, "\(next)")
                #expect(response.headers[.location] == next)
            }
            #expect(browser.jar.attempts().isEmpty, "each completed attempt clears its own cookie")
            #expect(try await browser.get("/dashboard").status == .ok)

            // A fourth tab: the oldest attempt gives way, the newer ones still complete.
            var tabs = Browser(client)
            let oldest = try await tabs.startLogin("/login?next=/a")
            let middle = try await tabs.startLogin("/login?next=/b")
            let newer = try await tabs.startLogin("/login?next=/c")
            let newest = try await tabs.startLogin("/login?next=/d")
            #expect(tabs.jar.attempts().count == SessionCookies.attemptLimit)
            for (callback, status) in [(oldest, HTTPResponse.Status.forbidden), (middle, .seeOther), (newer, .seeOther), (newest, .seeOther)] {
                let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.graceID))
                #expect(try await tabs.get("\(callback)?token=\(token.value)").status == status)
            }
        }
        // Each login of a browser ended the session it had before.
        #expect(await harness.sessionCount == 2)
    }

    /// The 20,000-request flood runs against the binary (`LoginFloodTests`); here a smaller one shows
    /// that nothing reaches a store.
    @Test("anonymous /login requests store nothing, and a real user's login started before them succeeds")
    func loginFlood() async throws {
        let harness = GatewayHarness()
        let floodSize = 2_000
        try await harness.run { client in
            var user = Browser(client)
            let callback = try await user.startLogin("/login?next=/reports")
            let redirected = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<32 {
                    group.addTask {
                        var count = 0
                        for _ in stride(from: worker, to: floodSize, by: 32) {
                            let response = try await client.execute(uri: "/login?next=/x", method: .get, headers: [:], body: nil)
                            if response.status == .seeOther, response.headers[.setCookie] != nil { count += 1 }
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(redirected == floodSize, "every flood request was answered like a real one")
            #expect(harness.spentStates.spendCount == 0, "starting a login stores nothing")
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            let response = try await user.get("\(callback)?token=\(token.value)")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/reports")
        }
        #expect(await harness.sessionCount == 1)
    }

    @Test("a missing, repeated or malformed token is 400; an invalid one 401; neither makes a session")
    func badTokens() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let valid = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            let expired = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            await harness.directory.expire(expired)
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("", .badRequest, "missing_token"), ("?token=", .badRequest, "missing_token"),
                ("?token=\(valid.value)&token=\(valid.value)", .badRequest, "malformed_token"),
                ("?token=a%0D%0Ab", .badRequest, "malformed_token"), ("?token=%00", .badRequest, "malformed_token"),
                ("?token=%C3%A9t%C3%A9", .badRequest, "malformed_token"),
                ("?token=\(String(repeating: "a", count: 5000))", .badRequest, "malformed_token"),
                ("?token=not-a-real-token", .unauthorized, "token_rejected"), ("?token=\(expired.value)", .unauthorized, "token_rejected"),
            ]
            let fetchesBefore = await harness.directory.profileFetchCount
            for (query, status, code) in cases {
                var browser = Browser(client)
                let callback = try await browser.startLogin()
                let response = try await browser.get(callback + query)
                #expect(response.status == status, "\(query.prefix(40))")
                #expect(response.json?["error"] == .string(code))
                #expect(browser.jar["gatehouse_session"] == nil)
            }
            #expect(await harness.directory.profileFetchCount == fetchesBefore + 2, "only well-formed tokens reach the provider")
        }
        #expect(await harness.sessionCount == 0)
    }

    @Test("a state Gatehouse could not have issued is 403 before any lookup, even with a state cookie to match it")
    func hostileStates() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            let fetchesBefore = await harness.directory.profileFetchCount
            let states = [
                "short", String(repeating: "A", count: 42), String(repeating: "!", count: 43), String(repeating: "A", count: 5000),
                "%00" + String(repeating: "A", count: 40), "%0D%0A" + String(repeating: "A", count: 38), "%C3%A9" + String(repeating: "A", count: 41),
            ]
            for state in states {
                let response = try await client.execute(
                    uri: "/login/callback/\(state)?token=\(token.value)",
                    method: .get,
                    headers: [.cookie: "\(SessionCookies.forTests.attemptPrefix)x=\(state)"],
                    body: nil
                )
                #expect(response.status == .forbidden, "\(state.prefix(20))")
                #expect(response.headers[.setCookie]?.contains("gatehouse_session=") != true)
            }
            #expect(await harness.directory.profileFetchCount == fetchesBefore)
            #expect(harness.spentStates.spendCount == 0)
        }
        #expect(await harness.sessionCount == 0)
        // The controllers log through the request's logger: each line carries its request's id.
        let refusals = harness.logs.allText.split(separator: "\n").filter { $0.contains("Login callback refused") }
        #expect(refusals.count == 7)
        #expect(refusals.allSatisfy { $0.contains("hb.request.id=") })
    }

    @Test("a session cookie the browser brings is never adopted, and an old session dies at a new login")
    func noFixation() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let first = try #require(browser.jar["gatehouse_session"])
            try await browser.logIn(as: TestFixtures.graceID, directory: harness.directory)
            let second = try #require(browser.jar["gatehouse_session"])
            #expect(first != second)
            var old = Browser(client)
            old.jar["gatehouse_session"] = first
            #expect(try await old.get("/dashboard").status == .unauthorized, "the previous session ended")

            // An attacker plants a well-formed id in a victim's browser before login.
            let planted = SessionID.generate().cookieValue
            var victim = Browser(client)
            victim.jar["gatehouse_session"] = planted
            try await victim.logIn(directory: harness.directory)
            #expect(victim.jar["gatehouse_session"] != planted)
            var attacker = Browser(client)
            attacker.jar["gatehouse_session"] = planted
            #expect(try await attacker.get("/dashboard").status == .unauthorized)
        }
        #expect(await harness.sessionCount == 2)
    }

    @Test("provider failures at login are 5xx with a clear message, and no session")
    func providerFailures() async throws {
        let harness = GatewayHarness()
        let cases: [(ProviderError, HTTPResponse.Status, String)] = [
            (.unreachable(reason: "connection refused"), .serviceUnavailable, "provider_unreachable"),
            (.timedOut(), .gatewayTimeout, "provider_timeout"),
            (.badResponse(reason: "garbage"), .badGateway, "provider_bad_response"),
            (.misconfigured(code: 901, reason: "bad key"), .badGateway, "provider_misconfigured"),
            (.rateLimited(), .serviceUnavailable, "provider_rate_limited"),
        ]
        try await harness.run { client in
            for (error, status, code) in cases {
                harness.provider.failCompletions(with: error)
                var browser = Browser(client)
                let response = try await browser.logIn(directory: harness.directory)
                #expect(response.status == status)
                #expect(response.json?["error"] == .string(code))
                #expect(response.json?["message"]?.stringValue?.isEmpty == false)
                #expect(browser.jar["gatehouse_session"] == nil)
            }
        }
        #expect(await harness.sessionCount == 0)
        #expect(harness.logs.allText.contains("critical"), "a misconfigured gateway is logged loudly")
    }

    @Test("a session store that is down answers 503, not a crash, and /readyz says so")
    func storeDown() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            #expect(try await browser.get("/readyz").status == .ok)
            harness.store.setDown(true)
            let login = try await browser.logIn(directory: harness.directory)
            #expect(login.status == .serviceUnavailable)
            #expect(login.json?["error"] == .string("session_store_unavailable"))
            #expect(try await browser.get("/readyz").status == .serviceUnavailable)
            #expect(try await browser.get("/healthz").status == .ok)
            harness.store.setDown(false)
            #expect(try await browser.get("/readyz").status == .ok)
        }
    }

    @Test("a PostgreSQL server that is down: /readyz is 503, login is 503, the gateway keeps serving")
    func postgresDown() async throws {
        var configuration = try PostgresSessionStore.makeClientConfiguration(url: "postgres://nobody:x@127.0.0.1:9/none?sslmode=disable")
        configuration.options.connectTimeout = .milliseconds(300)
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test.postgres"))
        let keys = try SessionKeys(keyBytes: Data(repeating: 3, count: 32))
        let store = PostgresSessionStore(client: client, keys: keys, operationTimeout: .milliseconds(500), logger: Logger(label: "test"))
        let spent = PostgresSpentLoginStateStore(client: client, operationTimeout: .milliseconds(500), logger: Logger(label: "test"))
        let directory = MockDirectory(users: TestFixtures.users)
        let settings = TestFixtures.configuration()
        let components = GatewayComponents(
            provider: LoginRadiusProvider.mock(directory: directory, hostedPageURL: settings.provider.hostedPageURL),
            store: store,
            keys: keys,
            spentLoginStates: spent,
            services: [client]
        )
        let app = try await buildApplication(configuration: settings, components: components, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            var browser = Browser(client)
            let ready = try await browser.get("/readyz")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json?["error"] == .string("not_ready"))
            // Starting a login needs no store; completing it does (the state is spent there).
            let login = try await browser.logIn(directory: directory)
            #expect(login.status == .serviceUnavailable)
            #expect(login.json?["error"] == .string("session_store_unavailable"))
            browser.jar["gatehouse_session"] = SessionID.generate().cookieValue
            #expect(try await browser.get("/dashboard").status == .serviceUnavailable)
            #expect(try await browser.get("/healthz").status == .ok)
        }
    }
}
