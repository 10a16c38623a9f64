import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

@testable import Gatehouse

/// Talks to gateway processes over real HTTP the way a browser would, cookies included, without
/// following redirects.
final class GatewayHTTPClient: Sendable {
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: JSONValue? { try? JSONValue(parsing: body) }

        /// The value this answer sets for cookie `name` (`""` when it expires it).
        func cookie(_ name: String) -> String? {
            cookies(prefixed: name + "=").first?.value
        }

        /// The cookies this answer sets whose `name=` starts with `prefix`, by name.
        func cookies(prefixed prefix: String) -> [(name: String, value: String)] {
            headers["Set-Cookie"].filter { $0.hasPrefix(prefix) }.compactMap { header in
                guard let equals = header.firstIndex(of: "=") else { return nil }
                return (String(header[..<equals]), String(header[header.index(after: equals)...].prefix { $0 != ";" }))
            }
        }
    }

    private let client: HTTPClient

    /// - Parameter connectionsPerHost: how many requests to one gateway may be in flight at once.
    init(connectionsPerHost: Int = 8) {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async throws {
        try await client.shutdown()
    }

    func send(
        _ method: HTTPMethod = .GET,
        _ url: String,
        cookies: [String: String] = [:],
        accept: String = "application/json",
        headers: [String: String] = [:],
        body: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        request.headers.add(name: "Accept", value: accept)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }

    /// The status a GET of `url` answers once it is `expected`, asked again and again for up to
    /// `within` (how long instances sharing a store may take to learn of another's write); the
    /// last status when it never was.
    func status(of url: String, cookies: [String: String], becomes expected: Int, within: Duration = .milliseconds(100)) async throws -> Int {
        let deadline = ContinuousClock.now + within
        while true {
            let status = try await send(.GET, url, cookies: cookies).status
            if status == expected || ContinuousClock.now >= deadline { return status }
        }
    }

    /// One whole login as `userID` that records nothing when a step fails (under load or faults,
    /// or a gateway being killed): the callback's status (0 when a step got no answer) and the session.
    func quietLogIn(at base: String, directory: MockDirectory, as userID: String = TestFixtures.adaID) async -> (status: Int, session: String?) {
        guard let login = try? await send(.GET, "\(base)/login"),
            let attempt = login.cookies(prefixed: "gatehouse_session_state_").first,
            let location = login.headers.first(name: "Location").flatMap(URLComponents.init(string:)),
            let returnURL = location.queryItems?.first(where: { $0.name == "return_url" })?.value.flatMap(URLComponents.init(string:)),
            let token = await directory.issueToken(forUserID: userID),
            let callback = try? await send(.GET, "\(base)\(returnURL.path)?token=\(token.value)", cookies: [attempt.name: attempt.value])
        else { return (0, nil) }
        return (callback.status, callback.cookie("gatehouse_session").flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Logs in on the gateway at `base` through the mock `directory`, the provider sending the browser
    /// back to `callbackBase` (another instance, say); returns the session cookie's value.
    func logIn(
        at base: String,
        callbackAt callbackBase: String? = nil,
        directory: MockDirectory,
        as userID: String = TestFixtures.adaID
    ) async throws -> (session: String, token: AccessToken) {
        let login = try await send(.GET, "\(base)/login")
        #expect(login.status == 303)
        let attempt = try #require(login.cookies(prefixed: "gatehouse_session_state_").first)
        let location = try #require(login.headers.first(name: "Location").flatMap(URLComponents.init(string:)))
        let returnURL = try #require(location.queryItems?.first { $0.name == "return_url" }?.value.flatMap(URLComponents.init(string:)))
        let token = try #require(await directory.issueToken(forUserID: userID))
        let callback = try await send(.GET, "\(callbackBase ?? base)\(returnURL.path)?token=\(token.value)", cookies: [attempt.name: attempt.value])
        #expect(callback.status == 303)
        return (try #require(callback.cookie("gatehouse_session")), token)
    }
}
