import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Gatehouse

/// The `oidc` provider over HTTP against the mock provider's OpenID Connect side.
@Suite("OpenID Connect against the mock provider", .timeLimit(.minutes(2)))
struct OpenIDConnectFlowTests {
    @Test("login: code with PKCE, state and nonce; a session with the ID token's claims and userinfo; /auth names the subject")
    func login() async throws {
        try await OpenIDStack().run { stack in
            var browser = Browser(stack.gateway)
            let start = try await browser.get("/login?next=/reports")
            let authorize = try #require(start.headers[.location].flatMap(URLComponents.init(string:)))
            let query = Dictionary((authorize.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
            #expect(query["response_type"] == "code")
            #expect(query["client_id"] == "gatehouse-demo")
            #expect(query["redirect_uri"] == "http://gatehouse.test/login/callback")
            #expect(query["scope"] == "openid email profile")
            #expect(query["code_challenge_method"] == "S256")
            #expect(query["code_challenge"]?.utf8.count == 43)
            #expect(query["state"].flatMap { Base64URL.decode($0) }?.count == 32)
            #expect(query["nonce"].flatMap { Base64URL.decode($0) }?.count == 32)
            #expect(query["prompt"] == nil)
            #expect(browser.jar.attempts().count == 1)
            let sealed = try #require(browser.jar.attempts().values.first)
            #expect(!sealed.contains(query["nonce"] ?? "-"), "the nonce and verifier travel sealed")

            let callback = try await stack.logIn(&browser, start: "/login?next=/reports")
            #expect(callback.status == .seeOther)
            #expect(callback.headers[.location] == "/reports")
            let dashboard = try await browser.get("/dashboard")
            #expect(dashboard.status == .ok)
            let body = try #require(dashboard.json)
            #expect(body["user"] == .object(["id": .string(TestFixtures.adaID), "email": .string("ada@example.com"), "name": .string("Ada Lovelace")]))
            #expect(body["profile"]?["iss"] == .string(stack.issuer))
            #expect(body["profile"]?["aud"] == .string("gatehouse-demo"))
            #expect(body["profile"]?["preferred_username"] == .string("adalovelace"), "userinfo's claims are merged in")
            let auth = try await browser.get("/auth")
            #expect(auth.status == .ok)
            #expect(auth.headers[HTTPField.Name("X-Auth-Request-User")!] == TestFixtures.adaID)
            #expect(auth.headers[HTTPField.Name("X-Auth-Request-Email")!] == "ada@example.com")

            let session = try #require(try await stack.session(of: browser))
            #expect(session.credentials.refreshToken != nil)
            #expect(session.credentials.idToken != nil)
            #expect(session.credentials.expiresAt != nil)
            #expect(await stack.openID.clientAuthentications == ["basic"], "discovery allows client_secret_basic, so it is used")
        }
    }

    @Test("register sends prompt=create; a registered user signs in")
    func register() async throws {
        try await OpenIDStack().run { stack in
            var browser = Browser(stack.gateway)
            let start = try await browser.get("/register")
            #expect(start.headers[.location]?.contains("&prompt=create") == true)
            let registered = try await stack.logIn(&browser, start: "/register")
            #expect(registered.status == .seeOther)
        }
    }

    @Test("a public client signs in with PKCE alone; client_secret_post is used when discovery offers only it")
    func clientAuthentication() async throws {
        try await OpenIDStack().run(clientID: "gatehouse-demo-public", clientSecret: nil) { stack in
            var browser = Browser(stack.gateway)
            let login = try await stack.logIn(&browser)
            #expect(login.status == .seeOther)
            #expect(await stack.openID.clientAuthentications == ["none"])
        }
        try await OpenIDStack().run(clientID: "post-client", clientSecret: "post-secret") { stack in
            await stack.openID.setTokenEndpointAuthMethods(["client_secret_post"])
            var browser = Browser(stack.gateway)
            let login = try await stack.logIn(&browser)
            #expect(login.status == .seeOther)
            #expect(await stack.openID.clientAuthentications == ["post"])
        }
    }

    @Test("after revalidateAfterSeconds the session is refreshed: the rotated refresh token replaces the old, which is then refused")
    func refresh() async throws {
        let clock = ManualClock()
        try await OpenIDStack().run(clock: clock) { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            let before = try #require(try await stack.session(of: browser))
            #expect(try await browser.get("/dashboard").status == .ok)
            #expect(await stack.openID.tokenRequests["refresh_token"] == nil, "fresh: no refresh yet")
            clock.advance(by: 31)
            #expect(try await browser.get("/dashboard").status == .ok)
            #expect(await stack.openID.tokenRequests["refresh_token"] == 1)
            let after = try #require(try await stack.session(of: browser))
            #expect(after.credentials.refreshToken != before.credentials.refreshToken)
            #expect(after.credentials.accessToken != before.credentials.accessToken)
            let old = try #require(before.credentials.refreshToken)
            let replay = await stack.openID.token(
                form: ["grant_type": "refresh_token", "refresh_token": old.value],
                basic: ("gatehouse-demo", "gatehouse-demo-secret"),
                issuer: stack.issuer
            )
            #expect(replay.status == 400, "the old refresh token is spent")
            #expect(try await browser.get("/auth").status == .ok, "and the session lives on with the new one")
        }
    }

    @Test("concurrent requests of a session that is due share one refresh")
    func sharedRefresh() async throws {
        let clock = ManualClock()
        try await OpenIDStack().run(clock: clock) { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            clock.advance(by: 31)
            let headers = browser.jar.headers()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<40 {
                    group.addTask { try await stack.gateway.execute(uri: "/auth", method: .get, headers: headers, body: nil).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok }, "\(statuses)")
            #expect(await stack.openID.tokenRequests["refresh_token"] == 1)
        }
    }

    @Test("a refresh the provider refuses ends the session")
    func refusedRefresh() async throws {
        let clock = ManualClock()
        try await OpenIDStack().run(clock: clock) { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            let session = try #require(try await stack.session(of: browser))
            // Revoked behind the gateway's back, at the provider.
            _ = await stack.openID.revoke(
                form: ["token": session.credentials.refreshToken?.value ?? ""],
                basic: ("gatehouse-demo", "gatehouse-demo-secret")
            )
            clock.advance(by: 31)
            #expect(try await browser.get("/dashboard").status == .unauthorized)
            #expect(try await stack.session(of: browser) == nil)
        }
    }

    @Test("logout revokes the refresh token at the provider; a browser goes to the end-session endpoint with id_token_hint")
    func logout() async throws {
        try await OpenIDStack().run { stack in
            var api = Browser(stack.gateway)
            try await stack.logIn(&api)
            let session = try #require(try await stack.session(of: api))
            let loggedOut = try await api.post("/logout")
            #expect(loggedOut.json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(true)]))
            #expect(await stack.openID.revocationCount == 1)
            let refresh = await stack.openID.token(
                form: ["grant_type": "refresh_token", "refresh_token": session.credentials.refreshToken?.value ?? ""],
                basic: ("gatehouse-demo", "gatehouse-demo-secret"),
                issuer: stack.issuer
            )
            #expect(refresh.status == 400, "the grant is revoked")
            #expect(await stack.directory.liveUserID(forToken: session.credentials.accessToken.value) == nil, "and its access token with it")

            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            let idToken = try #require(try await stack.session(of: browser)?.credentials.idToken)
            let out = try await browser.get("/logout", accept: "text/html")
            #expect(out.status == .seeOther)
            let location = try #require(out.headers[.location].flatMap(URLComponents.init(string:)))
            #expect(location.string?.hasPrefix(stack.issuer + "/oauth/logout?") == true)
            let query = Dictionary((location.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
            #expect(query["id_token_hint"] == idToken.value)
            #expect(query["client_id"] == "gatehouse-demo")
            #expect(query["post_logout_redirect_uri"] == "http://gatehouse.test/")
            #expect(try await browser.get("/dashboard").status == .unauthorized)
        }
    }

    @Test("the provider sending back error=access_denied is 401 and no session")
    func denied() async throws {
        try await OpenIDStack().run { stack in
            var browser = Browser(stack.gateway)
            let callback = try await stack.authorize(&browser, action: "deny")
            #expect(callback.contains("error=access_denied"))
            let response = try await browser.get(callback)
            #expect(response.status == .unauthorized)
            #expect(response.json?["error"] == .string("login_denied"))
            #expect(browser.jar["gatehouse_session"] == nil)
        }
    }

    @Test("a wrong state is 403; a code used twice is refused by the provider (401); neither makes a session")
    func replays() async throws {
        try await OpenIDStack().run { stack in
            var browser = Browser(stack.gateway)
            let callback = try await stack.authorize(&browser)
            var stranger = Browser(stack.gateway)
            #expect(try await stranger.get(callback).status == .forbidden, "another browser's callback")
            let tampered = callback.replacingOccurrences(of: "state=", with: "state=A")
            #expect(try await browser.get(tampered).status == .forbidden)
            #expect(try await browser.get(callback).status == .seeOther)
            #expect(try await browser.get(callback).status == .forbidden, "the same state again")

            // The code again, under a fresh state of this browser: the provider refuses it.
            var again = Browser(stack.gateway)
            let fresh = try await again.get("/login")
            let state = try #require(
                fresh.headers[.location].flatMap(URLComponents.init(string:))?.queryItems?.first { $0.name == "state" }?.value
            )
            let code = try #require(URLComponents(string: callback)?.queryItems?.first { $0.name == "code" }?.value)
            let replay = try await again.get("/login/callback?code=\(code)&state=\(state)")
            #expect(replay.status == .unauthorized)
            #expect(again.jar["gatehouse_session"] == nil)
        }
    }

    @Test(
        "an ID token that is wrong in any way is 401 and no session",
        arguments: [
            MockOpenIDProvider.IDTokenFault.wrongIssuer, .wrongAudience, .wrongNonce, .expired, .issuedInTheFuture, .unsigned, .hmacWithPublicKey,
            .unknownKey, .tamperedPayload,
        ]
    )
    func badIDTokens(_ fault: MockOpenIDProvider.IDTokenFault) async throws {
        try await OpenIDStack().run { stack in
            await stack.openID.setIDTokenFault(fault)
            var browser = Browser(stack.gateway)
            let response = try await stack.logIn(&browser)
            #expect(response.status == .unauthorized, "\(fault)")
            #expect(response.json?["error"] == .string("token_rejected"))
            #expect(browser.jar["gatehouse_session"] == nil)
            // The same login with a sound token succeeds: the fault, nothing else, was refused.
            await stack.openID.setIDTokenFault(nil)
            var control = Browser(stack.gateway)
            let sound = try await stack.logIn(&control)
            #expect(sound.status == .seeOther)
        }
    }

    @Test("no code, access, refresh or ID token, client secret or session id reaches the logs, at trace level, through a refresh and a failed one")
    func logsStayClean() async throws {
        let clock = ManualClock()
        let stack = OpenIDStack()
        let secrets = SecretsSeen()
        try await stack.run(clock: clock) { stack in
            var browser = Browser(stack.gateway)
            let callback = try await stack.authorize(&browser)
            let query = URLComponents(string: callback)?.queryItems ?? []
            secrets.add(try #require(query.first { $0.name == "code" }?.value))
            try await browser.get(callback)
            let session = try #require(try await stack.session(of: browser))
            for secret in [session.credentials.accessToken.value, session.credentials.refreshToken?.value, session.credentials.idToken?.value] {
                secrets.add(try #require(secret))
            }
            secrets.add(try #require(browser.jar["gatehouse_session"]))
            secrets.add("gatehouse-demo-secret")
            clock.advance(by: 31)
            try await browser.get("/dashboard")  // a refresh
            let refreshed = try #require(try await stack.session(of: browser))
            secrets.add(refreshed.credentials.accessToken.value)
            secrets.add(try #require(refreshed.credentials.refreshToken?.value))
            await stack.directory.setFault(.status(500))
            clock.advance(by: 31)
            try await browser.get("/dashboard")  // a failed refresh, logged
            await stack.directory.setFault(nil)
            try await browser.post("/logout")
        }
        #expect(stack.logs.count > 10)
        for secret in secrets.all { #expect(!stack.logs.allText.contains(secret), "a secret of \(secret.count) characters was logged") }
    }

    @Test("a rotated signing key is fetched when a token names it; made-up keys do not make the gateway fetch the key set each time")
    func keyRotation() async throws {
        try await OpenIDStack().run { stack in
            var first = Browser(stack.gateway)
            let firstLogin = try await stack.logIn(&first)
            #expect(firstLogin.status == .seeOther)
            #expect(await stack.openID.keySetRequests == 1)
            await stack.openID.rotateSigningKey()
            var second = Browser(stack.gateway)
            let secondLogin = try await stack.logIn(&second)
            #expect(secondLogin.status == .seeOther, "the new kid is looked up")
            #expect(await stack.openID.keySetRequests == 2)
            await stack.openID.setIDTokenFault(.unknownKey)
            for _ in 0..<5 {
                var browser = Browser(stack.gateway)
                let refused = try await stack.logIn(&browser)
                #expect(refused.status == .unauthorized)
            }
            #expect(await stack.openID.keySetRequests == 2, "an unknown kid refetches at most every 30 s")
        }
    }

    @Test("an issuer the discovery document does not name exactly is 502 at /login; an unreachable one is 503")
    func issuerChecks() async throws {
        try await OpenIDStack().run(issuerSuffix: "/") { stack in
            var browser = Browser(stack.gateway)
            let login = try await browser.get("/login")
            #expect(login.status == .badGateway)
            #expect(login.json?["error"] == .string("provider_misconfigured"))
            #expect(browser.jar.attempts().isEmpty, "no attempt is made for a provider that cannot be used")
        }
        try await OpenIDStack().run(issuer: "http://127.0.0.1:1") { stack in
            var browser = Browser(stack.gateway)
            let login = try await browser.get("/login")
            #expect(login.status == .serviceUnavailable)
            #expect(login.json?["error"] == .string("provider_unreachable"))
        }
    }

    @Test(
        "token endpoint faults fail closed and make no session",
        arguments: [
            (MockFault.status(500), HTTPResponse.Status.badGateway), (.body(status: 200, contentType: "text/html", text: "<h1>hi</h1>"), .badGateway),
            (.redirect(location: "http://evil.example/"), .badGateway), (.status(429), .serviceUnavailable), (.delay(.seconds(6)), .gatewayTimeout),
        ]
    )
    func faults(_ fault: MockFault, status: HTTPResponse.Status) async throws {
        // A short deadline only where the deadline is what is tested: elsewhere a loaded machine could hit it first.
        let slow = if case .delay = fault { true } else { false }
        try await OpenIDStack().run(timeoutSeconds: slow ? 2.5 : 10) { stack in
            if slow {
                // Discovery is not the call whose deadline is tested; on a loaded machine (CI, the
                // floods beside it) it has taken more than 1 s, so the deadline is 2.5 s, the delay 6 s,
                // and /login is asked until discovery is in (kept: it is not fetched again).
                for _ in 0..<5 {
                    var warming = Browser(stack.gateway)
                    if try await warming.get("/login").status == .seeOther { break }
                }
            }
            var browser = Browser(stack.gateway)
            let callback = try await stack.authorize(&browser)
            await stack.directory.setFault(fault)
            let response = try await browser.get(callback)
            #expect(response.status == status, "\(fault)")
            #expect(browser.jar["gatehouse_session"] == nil)
            await stack.directory.setFault(nil)
            // The control login is not the step whose time is tested: with the short deadline, a
            // loaded machine could make it fail, so it runs on a gateway with the usual deadline.
            guard !slow else { return }
            var control = Browser(stack.gateway)
            let sound = try await stack.logIn(&control)
            #expect(sound.status == .seeOther, "without the fault the same login succeeds")
        }
        if slow {
            try await OpenIDStack().run(timeoutSeconds: 10) { stack in
                var control = Browser(stack.gateway)
                let sound = try await stack.logIn(&control)
                #expect(sound.status == .seeOther, "without the fault the same login succeeds")
            }
        }
    }
}
