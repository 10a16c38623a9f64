import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

@testable import Gatehouse

/// The `oidc` provider against a real OpenID Connect provider that Gatehouse did not write:
/// Canaille 0.3.6 (Yaal Coop's production identity server), started on loopback by
/// `Tests/OpenIDProvider/start-canaille.sh`. The browser signs in with Canaille's own login and
/// password forms.
///
/// The provider's clients are registered for one gateway address, so the gateway runs on that
/// fixed port and the tests run one at a time.
@Suite(
    "OpenID Connect against a real provider (Canaille)",
    .serialized,
    .timeLimit(.minutes(3)),
    .enabled(if: RealOpenIDProvider.enabled, RealOpenIDProvider.skipReason)
)
struct RealOpenIDProviderTests {
    @Test("a confidential client signs in; dashboard and /auth show the provider's user; logout revokes and goes to end-session")
    func confidentialClient() async throws {
        let provider = try RealOpenIDProvider.load()
        try await RealProviderGateway.run(provider, client: provider.confidential) { gateway in
            let callback = try await gateway.logIn(next: "/reports")
            #expect(callback.status == 303)
            #expect(callback.headers.first(name: "Location") == "/reports")

            let dashboard = try await gateway.browser.get(gateway.url("/dashboard"), accept: "application/json")
            #expect(dashboard.status == 200)
            #expect(dashboard.json?["user"] == .object(["id": .string(provider.username), "email": .string(provider.email), "name": .string(provider.name)]))
            #expect(dashboard.json?["profile"]?["iss"] == .string(provider.issuer))
            #expect(dashboard.json?["profile"]?["groups"]?.arrayValue?.count == 2, "userinfo's groups are merged in")
            let auth = try await gateway.browser.get(gateway.url("/auth"), accept: "*/*")
            #expect(auth.status == 200)
            #expect(auth.headers.first(name: "X-Auth-Request-User") == provider.username)
            #expect(auth.headers.first(name: "X-Auth-Request-Email") == provider.email)

            let session = try #require(try await gateway.session())
            let refreshToken = try #require(session.credentials.refreshToken)
            let logout = try await gateway.browser.post(gateway.url("/logout"), form: [], accept: "text/html")
            #expect(logout.status == 303)
            let endSession = try #require(logout.location)
            #expect(endSession.absoluteString.hasPrefix(provider.issuer + "/oauth/end_session?id_token_hint="))
            #expect(endSession.query?.contains("client_id=\(provider.confidential.id)") == true)
            // Canaille ends its own session and sends the browser back to the gateway.
            let back = try await gateway.browser.get(endSession)
            #expect(back.location?.absoluteString.hasPrefix(provider.gatewayURL + "/") == true, "back at \(back.location?.absoluteString ?? "nowhere")")
            #expect(try await gateway.browser.get(gateway.url("/dashboard"), accept: "application/json").status == 401)
            let reuse = try await gateway.refresh(refreshToken, as: provider.confidential)
            #expect(reuse.status == 400, "the refresh token was revoked at logout")
        }
    }

    @Test(
        "the provider's groups claim decides: a member of gatehouse-admins passes that rule and /auth names the groups; another group's rule is 403 not_allowed, no session"
    )
    func groupRules() async throws {
        let provider = try RealOpenIDProvider.load()
        var admins = GatehouseConfiguration.Access()
        admins.policy = AccessPolicy(sessionRule: AccessRule(allowGroups: ["gatehouse-admins"]))
        try await RealProviderGateway.run(provider, client: provider.confidential, access: admins) { gateway in
            let callback = try await gateway.logIn()
            #expect(callback.status == 303)
            let auth = try await gateway.browser.get(gateway.url("/auth"), accept: "*/*")
            #expect(auth.status == 200)
            let groups = auth.headers.first(name: "X-Auth-Request-Groups")?.split(separator: ",").map(String.init) ?? []
            #expect(Set(groups) == ["gatehouse-admins", "staff"])
        }
        var others = GatehouseConfiguration.Access()
        others.policy = AccessPolicy(sessionRule: AccessRule(allowGroups: ["auditors"]))
        try await RealProviderGateway.run(provider, client: provider.confidential, access: others) { gateway in
            let callback = try await gateway.logIn(accept: "application/json")
            #expect(callback.status == 403)
            #expect(callback.json?["error"] == .string("not_allowed"))
            #expect(try await gateway.session() == nil)
            #expect(try await gateway.browser.get(gateway.url("/auth"), accept: "*/*").status == 401)
        }
    }

    @Test("after revalidateAfterSeconds the session refreshes: the provider rotates the refresh token and refuses the old one")
    func refresh() async throws {
        let provider = try RealOpenIDProvider.load()
        let clock = ManualClock(Date())
        try await RealProviderGateway.run(provider, client: provider.confidential, clock: clock) { gateway in
            #expect(try await gateway.logIn().status == 303)
            let before = try #require(try await gateway.session())
            clock.advance(by: 31)
            let dashboard = try await gateway.browser.get(gateway.url("/dashboard"), accept: "application/json")
            #expect(dashboard.status == 200)
            let after = try #require(try await gateway.session())
            #expect(after.credentials.refreshToken != before.credentials.refreshToken, "the rotated refresh token is stored")
            #expect(after.validatedAt > before.validatedAt)
            let old = try #require(before.credentials.refreshToken)
            #expect(try await gateway.refresh(old, as: provider.confidential).status == 400)
            let json = try await gateway.browser.post(gateway.url("/logout"), form: [], accept: "application/json").json
            #expect(json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(true)]))
        }
    }

    @Test("a public client signs in with PKCE alone; Canaille cannot revoke for it, so logout reports providerRevoked false")
    func publicClient() async throws {
        let provider = try RealOpenIDProvider.load()
        try await RealProviderGateway.run(provider, client: provider.publicClient) { gateway in
            #expect(try await gateway.logIn().status == 303)
            #expect(try await gateway.browser.get(gateway.url("/auth"), accept: "*/*").status == 200)
            let json = try await gateway.browser.post(gateway.url("/logout"), form: [], accept: "application/json").json
            #expect(json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(false)]))
            #expect(try await gateway.browser.get(gateway.url("/auth"), accept: "*/*").status == 401)
        }
    }

    @Test("a wrong state is 403; the provider refuses a code used twice (401); neither makes a session")
    func replays() async throws {
        let provider = try RealOpenIDProvider.load()
        try await RealProviderGateway.run(provider, client: provider.confidential) { gateway in
            let callback = try await gateway.authorize()
            let strangerStatus = try await WebBrowser.with { try await $0.get(callback).status }
            #expect(strangerStatus == 403, "another browser's callback")
            let tampered = try #require(URL(string: callback.absoluteString.replacingOccurrences(of: "state=", with: "state=A")))
            #expect(try await gateway.browser.get(tampered).status == 403)
            #expect(try await gateway.browser.get(callback).status == 303)
            // The code again, under a fresh state of this browser.
            let fresh = try await gateway.browser.get(gateway.url("/login"))
            let state = try #require(
                fresh.location.flatMap { URLComponents(url: $0, resolvingAgainstBaseURL: false) }?.queryItems?.first { $0.name == "state" }?.value
            )
            let code = try #require(URLComponents(url: callback, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "code" }?.value)
            let replay = try await gateway.browser.get(gateway.url("/login/callback?code=\(code)&state=\(state)"), accept: "application/json")
            #expect(replay.status == 401)
            #expect(replay.json?["error"] == .string("token_rejected"))
        }
    }

    @Test("declining at the provider's consent page comes back as error=access_denied: 401, no session")
    func denied() async throws {
        let provider = try RealOpenIDProvider.load()
        try await RealProviderGateway.run(provider, client: provider.consenting) { gateway in
            let consent = try await gateway.signInAtProvider(from: gateway.url("/login"))
            let form = try #require(consent.form(id: "authorizeform"), "Canaille shows its consent page to a client it does not trust")
            let answer = try await gateway.browser.post(form.action, form: form.fields + [("answer", "deny")])
            let callback = try #require(answer.location)
            #expect(callback.query?.contains("error=access_denied") == true)
            let response = try await gateway.browser.get(callback, accept: "application/json")
            #expect(response.status == 401)
            #expect(response.json?["error"] == .string("login_denied"))
            #expect(try await gateway.session() == nil)
        }
    }

    @Test("an ID token altered on its way (a proxy tampers with the token response) is 401; through the same proxy untouched, the login works")
    func tamperedIDToken() async throws {
        let provider = try RealOpenIDProvider.load()
        for tamper in [true, false] {
            try await TokenTamperingProxy.run(provider: provider, tamper: tamper) { discoveryURL in
                try await RealProviderGateway.run(provider, client: provider.confidential, discoveryURL: discoveryURL) { gateway in
                    let response = try await gateway.logIn(accept: "application/json")
                    if tamper {
                        #expect(response.status == 401)
                        #expect(response.json?["error"] == .string("token_rejected"))
                        #expect(try await gateway.session() == nil)
                    } else {
                        #expect(response.status == 303, "the proxy itself is sound")
                    }
                }
            }
        }
    }

    @Test("an issuer the provider does not name exactly is 502; an unreachable provider is 503")
    func issuerChecks() async throws {
        let provider = try RealOpenIDProvider.load()
        try await RealProviderGateway.run(provider, client: provider.confidential, issuer: provider.issuer + "/") { gateway in
            let login = try await gateway.browser.get(gateway.url("/login"), accept: "application/json")
            #expect(login.status == 502)
            #expect(login.json?["error"] == .string("provider_misconfigured"))
        }
        try await RealProviderGateway.run(provider, client: provider.confidential, issuer: "http://127.0.0.1:1") { gateway in
            let login = try await gateway.browser.get(gateway.url("/login"), accept: "application/json")
            #expect(login.status == 503)
            #expect(login.json?["error"] == .string("provider_unreachable"))
        }
    }
}

/// A gateway with the `oidc` provider on the port the real provider's clients were registered for,
/// and a browser to drive it and the provider.
struct RealProviderGateway {
    let provider: RealOpenIDProvider
    let browser: WebBrowser
    let store: MemorySessionStore

    func url(_ path: String) -> URL {
        URL(string: provider.gatewayURL + path)!
    }

    /// Runs a gateway signing in as `client` for the length of `body`.
    static func run(
        _ provider: RealOpenIDProvider,
        client: RealOpenIDProvider.Client,
        issuer: String? = nil,
        discoveryURL: String? = nil,
        clock: ManualClock? = nil,
        access: GatehouseConfiguration.Access = .init(),
        _ body: (RealProviderGateway) async throws -> Void
    ) async throws {
        var configuration = TestFixtures.configuration(revalidateAfter: 30, kind: .openIDConnect, timeoutSeconds: 10)
        configuration.access = access
        configuration.publicURL = provider.gatewayURL
        configuration.listen = .init(host: "127.0.0.1", port: provider.gatewayPort)
        configuration.provider.openIDConnect = .init(
            issuer: issuer ?? provider.issuer,
            discoveryURL: discoveryURL,
            clientID: client.id,
            clientSecret: client.secret,
            scopes: ["openid", "email", "profile", "groups"]
        )
        let transport = ProviderTransport.makeHTTPClient(timeout: .seconds(10))
        let store = MemorySessionStore()
        let oidc = OpenIDConnectProvider(
            configuration: .init(
                issuer: issuer ?? provider.issuer,
                discoveryURL: discoveryURL,
                clientID: client.id,
                clientSecret: client.secret,
                scopes: ["openid", "email", "profile", "groups"]
            ),
            transport: ProviderTransport(client: transport, configuration: .init(timeout: .seconds(10)))
        )
        let (running, started) = AsyncStream.makeStream(of: Void.self)
        let app = try await buildApplication(
            configuration: configuration,
            components: GatewayComponents(provider: oidc, store: store, services: [HTTPClientService(client: transport)]),
            now: clock?.function ?? Date.init,
            logger: Logger(label: "gateway")
        ) { _ in started.yield() }
        let browser = WebBrowser()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.runService(gracefulShutdownSignals: []) }
                for await _ in running { break }
                do {
                    try await body(RealProviderGateway(provider: provider, browser: browser, store: store))
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        } catch {
            // A failed step must fail its test, not end the process: a client dropped unclosed traps.
            try? await browser.shutdown()
            throw error
        }
        try await browser.shutdown()
    }

    /// Signs in at the provider's login and password forms, starting from `start` (the gateway's
    /// `/login`); returns the page the provider answers once the user is known.
    func signInAtProvider(from start: URL) async throws -> WebBrowser.Page {
        let login = try await browser.get(start)
        #expect(login.status == 303)
        let provider = self.provider
        var page = try await browser.follow(login) { $0.absoluteString.hasPrefix(provider.issuer) }
        if let form = page.form(id: "loginform") {
            page = try await browser.follow(try await browser.post(form.action, form: form.fields + [("login", provider.username), ("remember", "y")]))
        }
        if let form = page.form(id: "passwordform") {
            page = try await browser.post(form.action, form: form.fields + [("password", provider.password)])
        }
        return try await browser.follow(page) { $0.absoluteString.hasPrefix(provider.issuer) }
    }

    /// The callback URL the provider sends the browser to after a sign-in started at `/login`.
    func authorize(next: String? = nil) async throws -> URL {
        let page = try await signInAtProvider(from: url("/login" + (next.map { "?next=" + $0 } ?? "")))
        let callback = try #require(page.location, "the provider answered \(page.status) without sending the browser back: \(page.body.prefix(300))")
        #expect(callback.absoluteString.hasPrefix(provider.redirectURI + "?"))
        return callback
    }

    /// A whole login; returns the gateway's answer to the callback.
    @discardableResult
    func logIn(next: String? = nil, accept: String = "text/html") async throws -> WebBrowser.Page {
        try await browser.get(try await authorize(next: next), accept: accept)
    }

    /// The session the browser's cookie names.
    func session() async throws -> Session? {
        guard let cookie = browser.cookies(for: url("/"))["gatehouse_session"], let id = SessionID(cookieValue: cookie) else { return nil }
        return await store.session(for: id.storageKey)
    }

    /// A refresh at the provider's token endpoint directly, as a confidential `client` (to see
    /// whether a refresh token still works): 400 `invalid_grant` once it is spent or revoked.
    func refresh(_ token: RefreshToken, as client: RealOpenIDProvider.Client) async throws -> WebBrowser.Page {
        let credentials = Data("\(client.id):\(client.secret ?? "")".utf8).base64EncodedString()
        let endpoint = try #require(URL(string: provider.issuer + "/oauth/token"))
        return try await WebBrowser.with { direct in
            try await direct.post(
                endpoint,
                form: [("grant_type", "refresh_token"), ("refresh_token", token.value)],
                accept: "application/json",
                headers: [("Authorization", "Basic \(credentials)")]
            )
        }
    }
}

/// Stands between the gateway and the provider for the token endpoint: its discovery document is
/// the provider's with `token_endpoint` pointed at itself, and it passes token requests on,
/// changing the ID token's payload in the answer when asked to (its signature then no longer holds).
enum TokenTamperingProxy {
    /// Runs the proxy for the length of `body`, which gets the proxy's discovery URL.
    static func run(provider: RealOpenIDProvider, tamper: Bool, _ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        let upstream = provider.issuer
        router.get(".well-known/openid-configuration") { request, _ -> Response in
            let page = try await WebBrowser.with { try await $0.get(URL(string: upstream + "/.well-known/openid-configuration")!, accept: "application/json") }
            guard var members = page.json?.objectValue, let host = request.head.authority else { return Response(status: .badGateway) }
            members["token_endpoint"] = .string("http://\(host)/token")
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: JSONValue.object(members).encoded()))
            )
        }
        router.post("token") { request, _ -> Response in
            let form = String(buffer: try await request.body.collect(upTo: 64 * 1024)).split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }
            let authorization = request.headers[.authorization].map { [("Authorization", $0)] } ?? []
            let page = try await WebBrowser.with {
                try await $0.post(URL(string: upstream + "/oauth/token")!, form: form, accept: "application/json", headers: authorization)
            }
            var text = page.body
            if tamper, var members = page.json?.objectValue, let idToken = members["id_token"]?.stringValue {
                var parts = idToken.split(separator: ".").map(String.init)
                let payload = String(decoding: Base64URL.decode(parts[1]) ?? [], as: UTF8.self)
                parts[1] = Base64URL.encode(Array(payload.replacingOccurrences(of: "\"\(provider.username)\"", with: "\"mallory\"").utf8))
                members["id_token"] = .string(parts.joined(separator: "."))
                text = String(decoding: JSONValue.object(members).encoded(), as: UTF8.self)
            }
            return Response(status: .init(code: page.status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        try await Application(router: router).test(.live) { client in
            let port = try #require(client.port)
            try await body("http://127.0.0.1:\(port)/.well-known/openid-configuration")
        }
    }
}
