import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Gatehouse

/// Reverse-proxy mode (contract §10) against a small Hummingbird app started by the test: what
/// is proxied and what Gatehouse answers itself, the route policies, what the app receives and
/// what the browser gets back, and an app that is down or slow.
@Suite("Reverse proxy", .timeLimit(.minutes(2)))
struct ReverseProxyTests {
    /// What the echo app saw of a request.
    struct Echo {
        let method: String
        let target: String
        let headers: [(name: String, value: String)]
        let bodyBytes: Int

        init(_ response: TestResponse) throws {
            try self.init(json: response.json, status: "\(response.status)")
        }

        /// From a raw exchange: the first answer's body (its Content-Length's worth after the head).
        init(raw: RawConnection.Outcome) throws {
            let bytes = Array(raw.received.utf8)
            let separator = Array("\r\n\r\n".utf8)
            let headEnd = try #require(bytes.indices.first { bytes[$0...].starts(with: separator) }, "no answer: \(raw.received.prefix(80))")
            let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
            let length = try #require(
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }.flatMap {
                    Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces))
                }
            )
            let body = bytes[(headEnd + 4)...].prefix(length)
            try self.init(json: try? JSONValue(parsing: Data(body)), status: String(head.prefix(40)))
        }

        private init(json: JSONValue?, status: String) throws {
            let object = try #require(json?.objectValue, "the app's echo, not \(status)")
            method = object["method"]?.stringValue ?? ""
            target = object["target"]?.stringValue ?? ""
            headers = (object["headers"]?.arrayValue ?? []).compactMap { pair in
                guard let pair = pair.arrayValue, pair.count == 2, let name = pair[0].stringValue, let value = pair[1].stringValue else { return nil }
                return (name, value)
            }
            bodyBytes = Int(object["bodyBytes"]?.integerValue ?? -1)
        }

        /// Every value of the header `name` (case-insensitive).
        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        func value(_ name: String) -> String? { values(name).first }
    }

    /// The app behind the gateway: echoes every request as JSON, except `/slow` (answers after
    /// 1.5 s), `/redirect` (302 with cookies), `/framed` (allows framing by its own origin),
    /// `/cut` (closes the connection a thousand bytes into a longer answer), and `POST /refuse`
    /// and `POST /early`, which answer 413 and 200 before reading the body.
    static func upstreamApp() -> some ApplicationProtocol {
        let router = Router()
        router.get("slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(1.5))
            return "late"
        }
        router.get("redirect") { _, _ in
            var headers = HTTPFields()
            headers[.location] = "https://elsewhere.example/landing?from=app"
            headers.append(HTTPField(name: .setCookie, value: "app_cookie=kept; Path=/"))
            headers.append(HTTPField(name: .setCookie, value: "gatehouse_session=from-the-app; Path=/"))
            return Response(status: .found, headers: headers)
        }
        router.get("cut") { _, _ in
            // Promises 100,000 bytes, sends 1,000, then fails: the connection is closed mid-answer.
            Response(
                status: .ok,
                headers: [.contentLength: "100000"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(repeating: UInt8(ascii: "a"), count: 1000))
                    throw CancellationError()
                }
            )
        }
        router.post("refuse") { _, _ in Response(status: .contentTooLarge, body: .init(byteBuffer: ByteBuffer(string: "too large"))) }
        router.post("early") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "early"))) }
        router.get("framed") { _, _ in
            Response(status: .ok, headers: [.xFrameOptions: "SAMEORIGIN", .cacheControl: "max-age=60"], body: .init(byteBuffer: ByteBuffer(string: "framed")))
        }
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
            router.on("**", method: method) { request, _ in try await echo(request) }
            router.on("/", method: method) { request, _ in try await echo(request) }
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade { head, _, _ in
                // A WebSocket app: says who it was told the user is, then echoes each message.
                let user = head.headerFields[HTTPField.Name("X-Forwarded-User")!] ?? "-"
                let cookie = head.headerFields[.cookie] ?? "-"
                return .upgrade([:]) { inbound, outbound, _ in
                    try await outbound.write(.text("user=\(user) cookie=\(cookie) target=\(head.path ?? "")"))
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { try await outbound.write(.text("echo:" + text)) }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0))
        )
    }

    private static func echo(_ request: Request) async throws -> Response {
        var count = 0
        for try await buffer in request.body { count += buffer.readableBytes }
        var headers: [JSONValue] = request.headers.map { .array([.string($0.name.rawName), .string($0.value)]) }
        if let authority = request.head.authority { headers.append(.array([.string("Host"), .string(authority)])) }
        let body: JSONValue = .object([
            "method": .string(request.method.rawValue),
            "target": .string(request.head.path ?? ""),
            "headers": .array(headers),
            "bodyBytes": .integer(Int64(count)),
        ])
        return JSONResponse.make(encoded: body.encoded())
    }

    /// Runs `body` against a gateway in front of the app (both over real sockets).
    static func run(
        routes: [AccessPolicy.Route] = [],
        upstreams: @escaping @Sendable (_ appPort: Int) -> [GatehouseConfiguration.Upstream] = {
            [.init(pathPrefix: "/", target: .http(origin: "http://127.0.0.1:\($0)"))]
        },
        revalidateAfter: TimeInterval = 30,
        trustedProxies: [String]? = nil,
        _ body: @escaping @Sendable (GatewayHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await upstreamApp().test(.live) { app in
            let port = try #require(app.port)
            var configured = GatewayHarness(revalidateAfter: revalidateAfter)
            configured.configuration.access.policy = AccessPolicy(routes: routes)
            configured.configuration.upstreams = upstreams(port)
            if let trustedProxies { configured.configuration.access.trustedProxies = try TrustedProxies.parse(trustedProxies).get() }
            let harness = configured
            try await harness.run(.live) { client in try await body(harness, client) }
        }
    }

    @Test("a target that is not a well-formed URI reaches the app escaped only where it is not; a path no rule can read is 400 and does not reach it")
    func malformedTargets() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/public/", requirement: .public)]) { _, client in
            let port = try #require(client.port)
            let cases = [
                ("/public/x?q=100%&r=a%20b", "/public/x?q=100%25&r=a%20b"),
                ("/public/x?q={a|b}", "/public/x?q=%7Ba%7Cb%7D"),
                ("/public/[x]?a=%2F", "/public/%5Bx%5D?a=%2F"),
            ]
            for (sent, received) in cases {
                let raw = try await RawConnection.exchange(port: port, chunks: ["GET \(sent) HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n\r\n"])
                #expect(try Echo(raw: raw).target == received, "\(sent)")
            }
            // A path whose escapes are no UTF-8, or malformed, is read by no rule, so no upstream
            // claims it and it is refused: it was read as U+FFFD and passed the public prefix, and
            // AsyncHTTPClient sent the app `GET /`.
            for sent in ["/public/%A9", "/public/caf%E9?x=1", "/public/%zz", "/%ED%A0%80"] {
                let raw = try await RawConnection.exchange(port: port, chunks: ["GET \(sent) HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n\r\n"])
                #expect(raw.statusCode == 400, "\(sent): \(raw.received.prefix(200).debugDescription)")
                #expect(raw.received.contains("\"bad_path\""), "the gateway's error, not the app's answer")
                #expect(raw.received.lowercased().contains("x-content-type-options: nosniff"), "the gateway's headers")
            }
        }
    }

    @Test("a public route reaches the app without a session; the method, path, query and body arrive unchanged")
    func publicRoute() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/public/", requirement: .public)]) { _, client in
            let response = try await client.execute(
                uri: "/public/a%20b/../c?x=1&y=%2F",
                method: .put,
                headers: [.contentType: "text/plain"],
                body: ByteBuffer(string: "twelve bytes")
            )
            #expect(response.status == .ok)
            let echo = try Echo(response)
            #expect(echo.method == "PUT")
            #expect(echo.target == "/public/a%20b/../c?x=1&y=%2F")
            #expect(echo.bodyBytes == 12)
            #expect(echo.value("X-Forwarded-User") == nil)
            #expect(response.headers[.referrerPolicy] == "no-referrer")
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
        }
    }

    @Test("without a session a browser is sent to login with next set to where it was; an XHR gets 401 JSON; the app is not called")
    func noSession() async throws {
        try await Self.run { _, client in
            let page = try await client.execute(uri: "/reports/q3?sort=desc", method: .get, headers: [.accept: "text/html"])
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=/reports/q3%3Fsort%3Ddesc")
            let xhr = try await client.execute(uri: "/reports/q3", method: .get, headers: [.accept: "application/json"])
            #expect(xhr.status == .unauthorized)
            #expect(xhr.json?["error"] == .string("not_authenticated"))
            let post = try await client.execute(uri: "/reports", method: .post, headers: [:], body: ByteBuffer(string: "x"))
            #expect(post.status == .unauthorized)
        }
    }

    @Test("a signed-in user reaches the app with X-Forwarded-User, -Email, -Groups, -Preferred-Username; the answer is not stored")
    func identityHeaders() async throws {
        try await Self.run { harness, client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let response = try await browser.get("/reports/q3")
            #expect(response.status == .ok)
            let echo = try Echo(response)
            #expect(echo.value("X-Forwarded-User") == TestFixtures.adaID)
            #expect(echo.value("X-Forwarded-Email") == "ada@example.com")
            #expect(echo.value("X-Forwarded-Groups") == "admins,staff")
            #expect(echo.value("X-Forwarded-Preferred-Username") == "adalovelace")
            #expect(echo.value("Authorization") == nil, "passAccessToken is off")
            #expect(response.headers[.cacheControl] == "no-store")
        }
    }

    @Test("Gatehouse's own routes keep precedence; the dashboard and home page are the app's when it claims /")
    func ownRoutes() async throws {
        try await Self.run { _, client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let login = try await client.execute(uri: "/login/", method: .get)
            #expect(login.status == .seeOther)
            #expect(login.headers[.location]?.contains("/mock-idp/auth.aspx") == true)
            #expect(try await client.execute(uri: "/auth", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
            let logout = try await client.execute(uri: "/logout", method: .post, headers: [.accept: "application/json"])
            #expect(logout.status == .unauthorized)
            #expect(logout.json?["error"] == .string("not_authenticated"), "Gatehouse's logout, not the app's echo")
            // Not Gatehouse's: /loginx, /dashboard, / are the app's (and need a session, like every path here).
            for path in ["/loginx", "/dashboard", "/"] {
                #expect(try await client.execute(uri: path, method: .get).json?["error"] == .string("not_authenticated"))
            }
        }
        // Without an upstream claiming it, the dashboard is Gatehouse's.
        try await Self.run(upstreams: { [.init(pathPrefix: "/app/", target: .http(origin: "http://127.0.0.1:\($0)"))] }) { harness, client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let dashboard = try await browser.get("/dashboard")
            #expect(dashboard.json?["user"]?["id"] == .string(TestFixtures.adaID))
            #expect(try Echo(try await browser.get("/app/x")).target == "/app/x")
            #expect(try await browser.get("/elsewhere").status == .notFound)
        }
    }

    @Test("per-route rules: a prefix's groups replace the top-level lists; a user outside them gets 403 and keeps the session")
    func routePolicies() async throws {
        let routes: [AccessPolicy.Route] = [
            .init(pathPrefix: "/admin/", requirement: .rules(AccessRule(allowGroups: ["admins"]))),
            .init(pathPrefix: "/open/", requirement: .public),
        ]
        try await Self.run(routes: routes) { harness, client in
            var grace = Browser(client)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            let refused = try await grace.get("/admin/panel", accept: "application/json")
            #expect(refused.status == .forbidden)
            #expect(refused.json?["error"] == .string("not_allowed"))
            // Every reading of the path is checked: an encoded separator or a case change does not slip past /admin/.
            #expect(try await grace.get("/open/..%2Fadmin/panel", accept: "application/json").status == .forbidden)
            #expect(try await grace.get("/ADMIN/panel", accept: "application/json").status == .forbidden)
            #expect(try await grace.get("/reports").status == .ok, "the session stands")
            var ada = Browser(client)
            try await ada.logIn(directory: harness.directory)
            #expect(try Echo(try await ada.get("/admin/panel")).value("X-Forwarded-User") == TestFixtures.adaID)
        }
    }

    @Test("client-sent identity and forwarding headers never reach the app, in any spelling; X-Forwarded-For appends only after a trusted proxy")
    func spoofedHeaders() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/open/", requirement: .public)]) { harness, client in
            let spoofed: HTTPFields = [
                HTTPField.Name("X-Forwarded-User")!: "admin",
                HTTPField.Name("X_Forwarded_User")!: "admin",
                HTTPField.Name("x-forwarded-email")!: "admin@example.com",
                HTTPField.Name("X-Forwarded-Groups")!: "admins",
                HTTPField.Name("X-Forwarded-Preferred-Username")!: "root",
                HTTPField.Name("X-Auth-Request-User")!: "admin",
                HTTPField.Name("X-Forwarded-For")!: "203.0.113.9",
                HTTPField.Name("X-Forwarded-Host")!: "trusted.example",
            ]
            // From loopback, a trusted proxy by default: its forwarded chain is kept and appended to.
            let open = try Echo(try await client.execute(uri: "/open/x", method: .get, headers: spoofed))
            for name in [
                "X-Forwarded-User", "X_Forwarded_User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username", "X-Auth-Request-User",
            ] {
                #expect(open.values(name).isEmpty, "\(name) was passed on")
            }
            #expect(open.values("X-Forwarded-For") == ["203.0.113.9, 127.0.0.1"])
            #expect(open.value("X-Forwarded-Host") == "trusted.example")
            #expect(open.value("X-Forwarded-Proto") == "http")

            var browser = Browser(client)
            try await browser.logIn(as: TestFixtures.graceID, directory: harness.directory)
            let signedIn = try Echo(try await browser.get("/reports", headers: spoofed))
            #expect(signedIn.values("X-Forwarded-User") == [TestFixtures.graceID])
            #expect(signedIn.values("X_Forwarded_User").isEmpty)
            #expect(signedIn.values("X-Forwarded-Groups") == ["staff"])
            #expect(signedIn.values("X-Forwarded-Email") == ["grace@example.com"])
        }
        // A peer outside trustedProxies: its chain and host are replaced.
        try await Self.run(routes: [.init(pathPrefix: "/open/", requirement: .public)], trustedProxies: ["10.0.0.0/8"]) { _, client in
            let echo = try Echo(
                try await client.execute(
                    uri: "/open/x",
                    method: .get,
                    headers: [
                        HTTPField.Name("X-Forwarded-For")!: "203.0.113.9", HTTPField.Name("X-Real-IP")!: "203.0.113.9",
                        HTTPField.Name("Forwarded")!: "for=1.2.3.4",
                    ]
                )
            )
            #expect(echo.values("X-Forwarded-For") == ["127.0.0.1"])
            #expect(echo.values("X-Real-IP").isEmpty)
            #expect(echo.values("Forwarded").isEmpty)
        }
    }

    @Test("hop-by-hop headers do not cross, nor those Connection names; Gatehouse's cookies are stripped, the app's kept")
    func hopByHopAndCookies() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/open/", requirement: .public)]) { harness, client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let session = try #require(browser.jar["gatehouse_session"])
            // Sent raw: HTTP clients manage Connection themselves and would not send these.
            let request = [
                "GET /reports HTTP/1.1", "Host: gatehouse.test", "Connection: keep-alive, X-Hop-Named", "X-Hop-Named: secret",
                "Keep-Alive: timeout=5", "TE: trailers", "Proxy-Authorization: Basic eDp5", "Proxy-Connection: keep-alive",
                "X-End-To-End: kept", "Cookie: app=1; gatehouse_session=\(session); gatehouse_session_state_abcdefgh=x; other=2", "", "",
            ]
            let port = try #require(client.port)
            // A second request closes the connection (Hummingbird keeps it open when Connection names more than close).
            let closing = "GET /healthz HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n\r\n"
            let echo = try Echo(raw: try await RawConnection.exchange(port: port, chunks: [request.joined(separator: "\r\n") + closing]))
            #expect(echo.values("Cookie") == ["app=1; other=2"])
            for name in ["X-Hop-Named", "Keep-Alive", "TE", "Proxy-Authorization", "Proxy-Connection"] {
                #expect(echo.values(name).isEmpty, "\(name) was passed on")
            }
            #expect(echo.value("X-End-To-End") == "kept")
            #expect(echo.value("X-Forwarded-User") == TestFixtures.adaID, "the session was read before its cookie was stripped")
        }
    }

    @Test("redirects from the app reach the browser untouched; the app cannot set Gatehouse's cookie; the app's framing policy stands")
    func answersFromTheApp() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/", requirement: .public)]) { _, client in
            let redirect = try await client.execute(uri: "/redirect", method: .get)
            #expect(redirect.status == .found)
            #expect(redirect.headers[.location] == "https://elsewhere.example/landing?from=app")
            #expect(redirect.headers[values: .setCookie] == ["app_cookie=kept; Path=/"])
            let framed = try await client.execute(uri: "/framed", method: .get)
            #expect(framed.headers[.xFrameOptions] == "SAMEORIGIN")
            #expect(framed.headers[.cacheControl] == "max-age=60", "a public route keeps the app's caching")
            #expect(String(buffer: framed.body) == "framed")
        }
    }

    @Test("the access token is passed as Authorization: Bearer only when the upstream asks for it; Host is passed or rewritten as configured")
    func accessTokenAndHost() async throws {
        try await Self.run(upstreams: { port in
            [
                .init(pathPrefix: "/token/", target: .http(origin: "http://127.0.0.1:\(port)"), passAccessToken: true, preserveHost: false),
                .init(pathPrefix: "/", target: .http(origin: "http://127.0.0.1:\(port)")),
            ]
        }) { harness, client in
            var browser = Browser(client)
            let callback = try await browser.startLogin()
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            try await browser.get("\(callback)?token=\(token.value)")
            guard case .http(let origin) = harness.configuration.upstreams[0].target else { throw CancellationError() }
            let appHost = String(origin.dropFirst("http://".count))
            let withToken = try Echo(try await browser.get("/token/x", headers: [.authorization: "Bearer from-the-client"]))
            #expect(withToken.values("Authorization") == ["Bearer \(token.value)"])
            #expect(withToken.value("Host") == appHost, "rewritten to the app's own")
            #expect(withToken.value("X-Forwarded-Host") != appHost, "the host the browser asked for")
            let without = try Echo(try await browser.get("/other", headers: [.authorization: "Basic eDp5"]))
            #expect(without.values("Authorization") == ["Basic eDp5"], "the client's own credentials for the app pass")
            #expect(without.value("Host") != appHost)
            #expect(without.value("Host") == without.value("X-Forwarded-Host"), "the browser's Host, passed on")
        }
    }

    @Test("an app that is down is 502, one that does not answer in time is 504, each counted by upstream and outcome")
    func downAndSlow() async throws {
        let closedPort = try RefusingPort.reserve()
        try await Self.run(
            routes: [.init(pathPrefix: "/", requirement: .public)],
            upstreams: { port in
                [
                    .init(pathPrefix: "/down/", target: .http(origin: "http://127.0.0.1:\(closedPort)")),
                    .init(pathPrefix: "/", target: .http(origin: "http://127.0.0.1:\(port)"), timeout: .milliseconds(300)),
                ]
            }
        ) { _, client in
            let down = try await client.execute(uri: "/down/x", method: .get, headers: [.accept: "application/json"])
            #expect(down.status == .badGateway)
            #expect(down.json?["error"] == .string("upstream_unreachable"))
            let page = try await client.execute(uri: "/down/x", method: .get, headers: [.accept: "text/html"])
            #expect(page.status == .badGateway)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let slow = try await client.execute(uri: "/slow", method: .get, headers: [.accept: "application/json"])
            #expect(slow.status == .gatewayTimeout)
            #expect(slow.json?["error"] == .string("upstream_timeout"))
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"gatehouse_upstream_requests_total{upstream="/down/",outcome="unreachable"} 2"#))
            #expect(metrics.contains(#"gatehouse_upstream_requests_total{upstream="/",outcome="timed_out"} 1"#))
            #expect(metrics.contains(#"gatehouse_upstream_request_duration_seconds_count{upstream="/"} 1"#))
        }
    }

    @Test("an answer the app cuts off is cut off for the browser too, never passed as whole, and logged")
    func answerCutOff() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/", requirement: .public)]) { harness, client in
            // Read raw until the gateway closes the connection (an HTTP client would only report an error).
            let raw = try await RawConnection.exchange(port: try #require(client.port), chunks: ["GET /cut HTTP/1.1\r\nHost: gateway.test\r\n\r\n"])
            let bytes = Array(raw.received.utf8)
            let headEnd = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("\r\n\r\n".utf8)) }, "no answer")
            let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.lowercased().contains("content-length: 100000"))
            #expect(bytes.count - (headEnd + 4) == 1000, "the browser gets what the app sent, then the connection ends")
            #expect(harness.logs.allText.contains("The upstream's answer was cut off"))
            // The gateway goes on serving.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test(
        "an app that answers an upload before reading it: the answer reaches the browser, the rest of the upload is read and dropped, the connection serves on",
        arguments: ["/refuse", "/early"],
        [true, false]
    )
    func answerBeforeUpload(path: String, hasLength: Bool) async throws {
        try await Self.run(routes: [.init(pathPrefix: "/", requirement: .public)]) { _, client in
            // The whole upload is sent whatever the answer, as a client that does not watch for
            // one does, then a request of the same connection: the gateway's upload to the app is
            // mid-read when the app's answer is done, and must leave the body to the connection.
            let piece = String(repeating: "u", count: 64 * 1024)
            let pieces = 16
            var chunks: [String]
            if hasLength {
                chunks = ["POST \(path) HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: \(piece.utf8.count * pieces)\r\n\r\n"]
                chunks += Array(repeating: piece, count: pieces)
            } else {
                chunks = ["POST \(path) HTTP/1.1\r\nHost: gateway.test\r\nTransfer-Encoding: chunked\r\n\r\n"]
                chunks += Array(repeating: String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n", count: pieces) + ["0\r\n\r\n"]
            }
            chunks.append("GET /healthz HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n")
            let raw = try await RawConnection.exchange(port: try #require(client.port), chunks: chunks)
            let answers = raw.received.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
            #expect(answers == [path == "/refuse" ? "413" : "200", "200"], "\(raw.received.prefix(300).debugDescription)")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok, "the gateway goes on serving")
        }
    }

    @Test("a client that waits for 100 Continue before its upload is told to send it once the gateway forwards it, and not when the gate refuses it")
    func expectContinue() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/public/", requirement: .public)]) { _, client in
            let port = try #require(client.port)
            let body = String(repeating: "b", count: 100_000)
            let forwarded = try await RawConnection.expectingContinue(
                port: port,
                head:
                    "PUT /public/upload HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
                body: body,
                limit: .seconds(10)
            )
            #expect(forwarded.beforeBody.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(forwarded.beforeBody.debugDescription)")
            let final = try Echo(
                raw: RawConnection.Outcome(received: String(forwarded.outcome.received.dropFirst(forwarded.beforeBody.count)), closedAfter: .zero)
            )
            #expect(final.method == "PUT")
            #expect(final.bodyBytes == body.utf8.count, "the whole upload reaches the app")
            // A request the gate refuses gets its final answer at once: the client need not send the body.
            let refused = try await RawConnection.expectingContinue(
                port: port,
                head:
                    "PUT /private/upload HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
                body: body,
                limit: .seconds(10)
            )
            #expect(refused.beforeBody.hasPrefix("HTTP/1.1 401 "), "\(refused.beforeBody.debugDescription)")
        }
    }

    @Test("a client that breaks off its upload is logged and counted as such, not as the app failing")
    func uploadBrokenOff() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/public/", requirement: .public)]) { harness, client in
            let head = "PUT /public/upload HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: 1000000\r\n\r\n"
            try await RawConnection.sendAndClose(port: try #require(client.port), bytes: head + String(repeating: "p", count: 100_000))
            #expect(await harness.logs.waitForLine(containing: "The client broke off its upload", within: .seconds(30)))
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"gatehouse_upstream_requests_total{upstream="/",outcome="client_aborted"} 1"#))
            #expect(!metrics.contains(#"outcome="unreachable""#), "the app did nothing wrong")
            #expect(!harness.logs.allText.contains("The upstream did not answer"))
        }
    }

    @Test("a session that ends mid-use sends the browser back to login with next set to where it was; an XHR gets 401")
    func sessionEndsMidUse() async throws {
        try await Self.run(revalidateAfter: 0) { harness, client in
            var browser = Browser(client)
            let callback = try await browser.startLogin()
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            try await browser.get("\(callback)?token=\(token.value)")
            #expect(try await browser.get("/wiki/page?rev=2").status == .ok)
            await harness.directory.expire(token)
            let page = try await browser.get("/wiki/page?rev=2", accept: "text/html")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=/wiki/page%3Frev%3D2")
            #expect(page.headers[values: .setCookie].contains { $0.hasPrefix("gatehouse_session=;") && $0.contains("Max-Age=0") })
            #expect(await harness.sessionCount == 0)
        }
        // Ended by the idle timeout (the sweeper) while the tab was open: an XHR of the page gets 401.
        try await Self.run { harness, client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            #expect(try await browser.get("/wiki/api").status == .ok)
            #expect(await harness.store.base.deleteExpired(idleCutoff: .distantFuture, createdCutoff: .distantFuture) == 1)
            let xhr = try await browser.get("/wiki/api", accept: "application/json")
            #expect(xhr.status == .unauthorized)
            #expect(xhr.json?["error"] == .string("not_authenticated"))
        }
    }

    /// Opens a WebSocket to the gateway at `path` with `cookie`, sends `messages`, and returns
    /// what came back: the app's greeting, then one answer per message.
    static func webSocket(port: Int, path: String, cookie: String?, messages: [String]) async throws -> [String] {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = cookie }
        let received = ReceivedMessages()
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)\(path)",
            configuration: .init(additionalHeaders: headers),
            logger: Logger(label: "ws-test")
        ) { inbound, outbound, _ in
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            if case .text(let greeting)? = try await iterator.next() { received.append(greeting) }
            for message in messages {
                try await outbound.write(.text(message))
                if case .text(let answer)? = try await iterator.next() { received.append(answer) }
            }
        }
        return received.all
    }

    final class ReceivedMessages: Sendable {
        private let messages = Mutex<[String]>([])
        func append(_ message: String) { messages.withLock { $0.append(message) } }
        var all: [String] { messages.withLock { $0 } }
    }

    @Test("a WebSocket upgrade of a signed-in browser reaches the app with its identity and without Gatehouse's cookie; messages cross both ways")
    func webSocketPassThrough() async throws {
        try await Self.run(routes: [.init(pathPrefix: "/open/", requirement: .public)]) { harness, client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            let session = try #require(browser.jar["gatehouse_session"])
            let port = try #require(client.port)
            let received = try await Self.webSocket(
                port: port,
                path: "/chat/room?id=7",
                cookie: "app=1; gatehouse_session=\(session)",
                messages: ["hello", "again"]
            )
            #expect(received == ["user=\(TestFixtures.adaID) cookie=app=1 target=/chat/room?id=7", "echo:hello", "echo:again"])
            // A public path needs no session, and tells the app of no one.
            let open = try await Self.webSocket(port: port, path: "/open/feed", cookie: nil, messages: ["x"])
            #expect(open == ["user=- cookie=- target=/open/feed", "echo:x"])
        }
    }

    @Test(
        "a WebSocket upgrade without a session is 401 (a browser 303 to login), by a user the path's rules refuse 403, never upgraded; another protocol's upgrade is ignored"
    )
    func webSocketRefused() async throws {
        let routes: [AccessPolicy.Route] = [
            .init(pathPrefix: "/admin/", requirement: .rules(AccessRule(allowGroups: ["admins"]))), .init(pathPrefix: "/public/", requirement: .public),
        ]
        try await Self.run(routes: routes) { harness, client in
            let port = try #require(client.port)
            await #expect(throws: WebSocketClientError.self) {
                _ = try await Self.webSocket(port: port, path: "/chat", cookie: nil, messages: [])
            }
            var grace = Browser(client)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            let session = try #require(grace.jar["gatehouse_session"])
            await #expect(throws: WebSocketClientError.self) {
                _ = try await Self.webSocket(port: port, path: "/admin/socket", cookie: "gatehouse_session=\(session)", messages: [])
            }
            // What the client was answered: the path's answers over HTTP, not a 101 (nor a bare 400).
            func handshake(_ path: String, cookie: String?, accept: String = "application/json") async throws -> String {
                let lines = [
                    "GET \(path) HTTP/1.1", "Host: gatehouse.test", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Accept: \(accept)",
                ]
                let request = (lines + (cookie.map { ["Cookie: \($0)"] } ?? []) + ["", ""]).joined(separator: "\r\n")
                let closing = "GET /healthz HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n\r\n"
                let outcome = try? await RawConnection.exchange(port: port, chunks: [request + closing])
                return outcome?.received ?? "still open"
            }
            #expect(try await handshake("/chat", cookie: nil).hasPrefix("HTTP/1.1 401"))
            let browser = try await handshake("/chat?room=1", cookie: nil, accept: "text/html")
            #expect(browser.hasPrefix("HTTP/1.1 303"))
            #expect(browser.contains("/login?next=/chat%3Froom%3D1"), "\(browser.prefix(300))")
            #expect(try await handshake("/admin/socket", cookie: "gatehouse_session=\(session)").hasPrefix("HTTP/1.1 403"))
            // A handshake to a path no upstream claims has nothing to upgrade to: refused by the upgrade handler.
            #expect(try await handshake("/healthz", cookie: nil).hasPrefix("HTTP/1.1 400"))
            #expect(try await Self.webSocket(port: port, path: "/chat", cookie: "gatehouse_session=\(session)", messages: []).count == 1)
            // Another protocol's upgrade (curl --http2 asks for h2c) is ignored: answered over HTTP/1.1,
            // as a connection's first request too (NIO's upgrade handler had closed it unanswered).
            let h2c = try await grace.get("/chat", headers: [.connection: "Upgrade", .upgrade: "h2c", .accept: "application/json"])
            #expect(h2c.status == .ok)
            #expect(try Echo(h2c).value("Upgrade") == nil)
            func firstRequestUpgrade(_ path: String, to upgrade: String) async throws -> RawConnection.Outcome {
                let request = ["GET \(path) HTTP/1.1", "Host: gatehouse.test", "Connection: Upgrade", "Upgrade: \(upgrade)", "", ""]
                let closing = "GET /healthz HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n\r\n"
                return try await RawConnection.exchange(port: port, chunks: [request.joined(separator: "\r\n") + closing])
            }
            let proxied = try await firstRequestUpgrade("/public/x?a=1", to: "h2c")
            #expect(proxied.statusCode == 200, "\(proxied.received.prefix(120).debugDescription)")
            #expect(try Echo(raw: proxied).target == "/public/x?a=1")
            #expect(try await firstRequestUpgrade("/healthz", to: "h2c").statusCode == 200)
            // A WebSocket handshake that is not a connection's first request is sent to open a new
            // connection for it (hummingbird-websocket: 307 to the same target, and the connection closes).
            let late = try await RawConnection.exchange(
                port: port,
                chunks: [
                    "GET /healthz HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n"
                        + "GET /chat HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAccept: application/json\r\nCookie: gatehouse_session=\(session)\r\n\r\n"
                ]
            )
            let statuses = late.received.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
            #expect(statuses == ["200", "307"], "\(late.received.prefix(400).debugDescription)")
            #expect(late.received.contains("Location: /chat\r\n"))
        }
    }
}
