import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import Gatehouse

/// The mock provider and the gateway as two real HTTP servers on ephemeral loopback ports, the
/// gateway using the real LoginRadius provider code to talk to the mock.
struct LiveStack {
    let directory = MockDirectory(users: TestFixtures.users)
    let logs = LogCapture()

    struct Clients {
        let gateway: any TestClientProtocol
        let idp: any TestClientProtocol
        let directory: MockDirectory
        let store: any SessionStore
        let idpURL: String
    }

    /// Starts the mock provider, then a gateway pointed at it (or at `apiURL` when given), and runs `body`.
    func run(
        store: @escaping @Sendable () async throws -> (any SessionStore, [any Service]) = { (MemorySessionStore(), []) },
        timeoutSeconds: Double = 10,
        revalidateAfter: TimeInterval = 30,
        apiURL: String? = nil,
        idleTimeoutSeconds: Double = 30,
        access: GatehouseConfiguration.Access = .init(),
        upstreams: [GatehouseConfiguration.Upstream] = [],
        clock: ManualClock? = nil,
        _ body: @escaping @Sendable (Clients) async throws -> Void
    ) async throws {
        let mock = await buildMockProviderApplication(directory: directory, port: 0, logger: logs.logger(label: "mock-idp"))
        let directory = self.directory
        let logs = self.logs
        try await mock.test(.live) { idpClient in
            let idpURL = "http://localhost:\(try #require(idpClient.port))"
            var configuration = TestFixtures.configuration(
                revalidateAfter: revalidateAfter,
                kind: .loginRadius,
                apiURL: apiURL ?? idpURL,
                hostedPageURL: idpURL + "/auth.aspx",
                timeoutSeconds: timeoutSeconds
            )
            configuration.listen.idleTimeout = .milliseconds(Int64(idleTimeoutSeconds * 1000))
            configuration.access = access
            configuration.upstreams = upstreams
            let timeout = Duration.milliseconds(Int64(timeoutSeconds * 1000))
            let client = ProviderTransport.makeHTTPClient(timeout: timeout)
            let provider = LoginRadiusProvider(
                configuration: .init(hostedPageURL: configuration.provider.hostedPageURL),
                api: LoginRadiusHTTPAPI(
                    apiURL: configuration.provider.apiURL,
                    apiKey: "test-api-key",
                    transport: ProviderTransport(client: client, configuration: .init(timeout: timeout))
                )
            )
            let (sessionStore, storeServices) = try await store()
            let components = GatewayComponents(provider: provider, store: sessionStore, services: storeServices + [HTTPClientService(client: client)])
            let gateway = try await buildApplication(
                configuration: configuration,
                components: components,
                now: clock?.function ?? Date.init,
                logger: logs.logger(label: "gateway")
            )
            try await gateway.test(.live) { gatewayClient in
                try await body(Clients(gateway: gatewayClient, idp: idpClient, directory: directory, store: sessionStore, idpURL: idpURL))
            }
        }
    }
}

extension LiveStack.Clients {
    /// A browser's whole login over HTTP: gateway `/login`, the mock's hosted page and form, the callback.
    /// Returns the callback's response; the browser's jar holds the cookies.
    @discardableResult
    func logIn(_ browser: inout Browser, form: [String: String] = ["action": "login", "uid": TestFixtures.adaID], start: String = "/login") async throws
        -> TestResponse
    {
        try await browser.get(try await callback(&browser, form: form, start: start))
    }

    /// The steps of ``logIn(_:form:start:)`` up to the hosted page's redirect: returns the callback
    /// path and query the browser is sent to, so a test can time the callback alone.
    func callback(_ browser: inout Browser, form: [String: String] = ["action": "login", "uid": TestFixtures.adaID], start: String = "/login") async throws
        -> String
    {
        let login = try await browser.get(start)
        let hostedPage = try #require(login.headers[.location].flatMap(URLComponents.init(string:)))
        #expect(hostedPage.string?.hasPrefix(idpURL + "/auth.aspx?action=") == true)
        let returnURL = try #require(hostedPage.queryItems?.first { $0.name == "return_url" }?.value)

        let page = try await idp.execute(uri: "/auth.aspx?\(hostedPage.percentEncodedQuery ?? "")", method: .get, headers: [:], body: nil)
        #expect(page.status == .ok)
        #expect(String(buffer: page.body).contains("Ada Lovelace"))

        var fields = form
        fields["return_url"] = returnURL
        let encoded = fields.map { "\($0.key)=\(PercentEncoding.encodeComponent($0.value))" }.joined(separator: "&")
        let submitted = try await idp.execute(
            uri: "/auth.aspx",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: encoded)
        )
        #expect(submitted.status == .found)
        let back = try #require(submitted.headers[.location].flatMap(URLComponents.init(string:)))
        #expect(back.queryItems?.first { $0.name == "token" }?.value?.isEmpty == false)
        return "\(back.path)?\(back.percentEncodedQuery ?? "")"
    }
}
