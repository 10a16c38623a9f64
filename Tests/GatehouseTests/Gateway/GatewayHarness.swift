import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import Testing

@testable import Gatehouse

/// A gateway wired to the in-process mock provider, driven through HummingbirdTesting.
struct GatewayHarness {
    let directory = MockDirectory(users: TestFixtures.users)
    let provider: ScriptedProvider
    let store: SwitchableStore
    let spentStates = CountingSpentLoginStateStore()
    var configuration: GatehouseConfiguration
    let logs = LogCapture()
    /// A cache in front of the store, as the durable stores have one.
    var cache: SessionCache?

    init(revalidateAfter: TimeInterval = 30) {
        configuration = TestFixtures.configuration(revalidateAfter: revalidateAfter)
        provider = ScriptedProvider(base: LoginRadiusProvider.mock(directory: directory, hostedPageURL: configuration.provider.hostedPageURL))
        store = SwitchableStore()
    }

    var sessionCount: Int {
        get async { await store.base.count }
    }

    /// Runs `body` against the gateway, over the router (no sockets) unless `setup` says `.live`
    /// (a real connection, from loopback); `live` holds what a reload may change.
    func run(
        _ setup: TestingSetup = .router,
        live: LiveSettings? = nil,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let front: any SessionStore = cache.map { CachedSessionStore(base: store, cache: $0) } ?? store
        let components = GatewayComponents(provider: provider, store: front, spentLoginStates: spentStates, mockDirectory: directory, sessionCache: cache)
        let app = try await buildApplication(configuration: configuration, components: components, live: live, logger: logs.logger())
        try await app.test(setup, body)
    }
}

/// The steps a browser takes through a login, with its cookie jar.
struct Browser {
    var jar = CookieJar()
    let client: any TestClientProtocol

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// `GET path` with the jar's cookies; stores what the response sets.
    @discardableResult
    mutating func get(_ path: String, accept: String? = nil) async throws -> TestResponse {
        let response = try await client.execute(uri: path, method: .get, headers: jar.headers(accept: accept), body: nil)
        jar.update(from: response.headers)
        return response
    }

    /// `POST path`, with `form` as an urlencoded body when given.
    @discardableResult
    mutating func post(_ path: String, accept: String? = nil, form: String? = nil) async throws -> TestResponse {
        var headers = jar.headers(accept: accept)
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: form.map { ByteBuffer(string: $0) })
        jar.update(from: response.headers)
        return response
    }

    /// `GET path` with the jar's cookies and `headers` besides.
    @discardableResult
    mutating func get(_ path: String, headers extra: HTTPFields) async throws -> TestResponse {
        var headers = jar.headers(accept: nil)
        headers.append(contentsOf: extra)
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        jar.update(from: response.headers)
        return response
    }

    /// Starts a login and returns the callback path the provider would send the browser to (without the token).
    mutating func startLogin(_ path: String = "/login") async throws -> String {
        let response = try await get(path)
        #expect(response.status == .seeOther)
        let location = try #require(response.headers[.location])
        let returnURL = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "return_url" }?.value)
        let callback = try #require(URLComponents(string: returnURL))
        return callback.path
    }

    /// A full login as `userID` through the mock directory; returns the callback response.
    @discardableResult
    mutating func logIn(as userID: String = TestFixtures.adaID, via path: String = "/login", directory: MockDirectory) async throws -> TestResponse {
        let callback = try await startLogin(path)
        let token = try #require(await directory.issueToken(forUserID: userID))
        return try await get("\(callback)?token=\(token.value)")
    }
}

extension TestResponse {
    var json: JSONValue? { try? JSONValue(parsing: Data(buffer: body)) }
}
