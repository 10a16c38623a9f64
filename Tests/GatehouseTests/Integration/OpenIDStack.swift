import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import Gatehouse

/// The mock provider speaking OpenID Connect and a gateway with the real `oidc` provider code,
/// as two HTTP servers on ephemeral loopback ports.
struct OpenIDStack {
    let directory = MockDirectory(users: TestFixtures.users)
    let logs = LogCapture()

    struct Clients {
        let gateway: any TestClientProtocol
        let idp: any TestClientProtocol
        let openID: MockOpenIDProvider
        let directory: MockDirectory
        let store: any SessionStore
        let issuer: String
    }

    /// The provider's clients, registered for the test gateway's address: a confidential one, a
    /// public one, and one for `client_secret_post`.
    static let clients: [MockOpenIDProvider.Client] = [
        ("gatehouse-demo", "gatehouse-demo-secret"), ("gatehouse-demo-public", nil), ("post-client", "post-secret"),
    ].map { id, secret in
        MockOpenIDProvider.Client(
            id: id,
            secret: secret,
            redirectURIs: ["http://gatehouse.test/login/callback"],
            postLogoutRedirectURIs: ["http://gatehouse.test/"]
        )
    }

    /// Starts the mock provider, then a gateway signing in there as `clientID`, and runs `body`.
    ///
    /// - Parameters:
    ///   - issuer: the issuer the gateway is configured with; by default the mock's.
    ///   - issuerSuffix: appended to the mock's issuer in the gateway's configuration.
    func run(
        clientID: String = MockOpenIDProvider.Client.demo.id,
        clientSecret: String? = MockOpenIDProvider.Client.demo.secret,
        issuer configuredIssuer: String? = nil,
        issuerSuffix: String = "",
        revalidateAfter: TimeInterval = 30,
        timeoutSeconds: Double = 10,
        clock: ManualClock? = nil,
        _ body: @escaping @Sendable (Clients) async throws -> Void
    ) async throws {
        let openID = await MockOpenIDProvider(directory: directory, clients: Self.clients)
        let mock = await buildMockProviderApplication(directory: directory, openID: openID, port: 0, logger: logs.logger(label: "mock-idp"))
        let directory = self.directory
        let logs = self.logs
        try await mock.test(.live) { idpClient in
            let issuer = "http://localhost:\(try #require(idpClient.port))"
            await openID.setIssuer(issuer)
            let gatewayIssuer = configuredIssuer ?? issuer + issuerSuffix
            var configuration = TestFixtures.configuration(revalidateAfter: revalidateAfter, kind: .openIDConnect, timeoutSeconds: timeoutSeconds)
            configuration.provider.openIDConnect = .init(issuer: gatewayIssuer, clientID: clientID, clientSecret: clientSecret)
            let timeout = Duration.milliseconds(Int64(timeoutSeconds * 1000))
            let client = ProviderTransport.makeHTTPClient(timeout: timeout)
            let provider = OpenIDConnectProvider(
                configuration: .init(issuer: gatewayIssuer, clientID: clientID, clientSecret: clientSecret),
                transport: ProviderTransport(client: client, configuration: .init(timeout: timeout))
            )
            let store = MemorySessionStore()
            let components = GatewayComponents(provider: provider, store: store, services: [HTTPClientService(client: client)])
            let gateway = try await buildApplication(
                configuration: configuration,
                components: components,
                now: clock?.function ?? Date.init,
                logger: logs.logger(label: "gateway")
            )
            try await gateway.test(.live) { gatewayClient in
                try await body(Clients(gateway: gatewayClient, idp: idpClient, openID: openID, directory: directory, store: store, issuer: issuer))
            }
        }
    }
}

extension OpenIDStack.Clients {
    /// A browser's whole login: gateway `/login` (or `start`), the mock's authorize page, the
    /// chosen form, back to the callback. Returns the callback's response.
    @discardableResult
    func logIn(_ browser: inout Browser, action: String = "login", as userID: String = TestFixtures.adaID, start: String = "/login") async throws
        -> TestResponse
    {
        let callback = try await authorize(&browser, action: action, as: userID, start: start)
        return try await browser.get(callback)
    }

    /// The steps of ``logIn(_:action:as:start:)`` up to the provider's redirect: returns the
    /// callback path and query the provider sends the browser to.
    func authorize(_ browser: inout Browser, action: String = "login", as userID: String = TestFixtures.adaID, start: String = "/login") async throws
        -> String
    {
        let login = try await browser.get(start)
        #expect(login.status == .seeOther)
        let authorize = try #require(login.headers[.location].flatMap(URLComponents.init(string:)))
        #expect(authorize.string?.hasPrefix(issuer + "/oauth/authorize?") == true)
        let page = try await idp.execute(uri: "/oauth/authorize?\(authorize.percentEncodedQuery ?? "")", method: .get, headers: [:], body: nil)
        #expect(page.status == .ok)
        var fields: [(String, String)] = (authorize.queryItems ?? []).compactMap { item in
            item.name == "response_type" ? nil : item.value.map { (item.name, $0) }
        }
        fields += [("action", action), ("uid", userID)]
        let submitted = try await idp.execute(
            uri: "/oauth/authorize",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: PercentEncoding.formEncoded(fields))
        )
        #expect(submitted.status == .found)
        let back = try #require(submitted.headers[.location].flatMap(URLComponents.init(string:)))
        return "\(back.path)?\(back.percentEncodedQuery ?? "")"
    }

    /// The session the store holds for the browser's cookie.
    func session(of browser: Browser) async throws -> Session? {
        guard let cookie = browser.jar["gatehouse_session"], let id = SessionID(cookieValue: cookie) else { return nil }
        return try await store.session(for: id.storageKey)
    }
}
