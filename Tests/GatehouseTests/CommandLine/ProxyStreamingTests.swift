import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

@testable import Gatehouse

/// `gatehouse serve` in front of a Python app (Tests/Upstream/upstream.py): bodies far larger than
/// the gateway's memory streamed both ways, an app on a Unix socket, and the app's hop-by-hop
/// headers kept from the browser.
@Suite("Reverse proxy in front of a Python app", .timeLimit(.minutes(3)))
struct ProxyStreamingTests {
    /// The bytes moved each way: many times what the gateway may hold. Uploads are where a
    /// missing back-pressure shows (downloads never held more), so they move more.
    static let downloadBytes = 128 * 1024 * 1024
    static let transferBytes = 256 * 1024 * 1024
    /// How much the gateway's peak resident memory may grow while they move.
    static let growthLimit = 16 * 1024 * 1024

    /// Runs `body` with a gateway (the mock provider for logins) in front of `upstream`, and the session of a signed-in user.
    func withGateway(
        upstreamURL: String,
        niced: Bool = false,
        _ body: @escaping @Sendable (_ base: String, _ session: String, _ gateway: GatehouseProcess, _ http: GatewayHTTPClient) async throws -> Void
    ) async throws {
        let instances = ManyInstancesTests()
        try await instances.withMockProvider { idpURL, directory in
            let config = try instances.writeConfig(
                idpURL: idpURL,
                sessions: #"{"store": "memory", "secureCookies": false}"#,
                extra: #""upstreams": [{"pathPrefix": "/", "url": "\#(upstreamURL)", "timeoutSeconds": 10}],"#
            )
            let serve = ["serve", "--config", config.path, "--port", "0", "--log-level", "warning"]
            let gateway =
                niced
                ? try GatehouseProcess(["-n", "19", try GatehouseProcess.executable.path] + serve, executable: URL(fileURLWithPath: "/usr/bin/nice"))
                : try GatehouseProcess(serve)
            let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let http = GatewayHTTPClient()
            do {
                let (session, _) = try await http.logIn(at: base, directory: directory)
                try await body(base, session, gateway, http)
            } catch {
                try? await http.shutdown()
                _ = await gateway.stop()
                throw error
            }
            try await http.shutdown()
            #expect(await gateway.stop() == 0)
        }
    }

    /// The gateway's peak resident memory so far (`VmHWM`), in bytes.
    static func peakMemory(of process: GatehouseProcess) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try #require(Int(line.split(separator: " ").dropFirst().first ?? "")) * 1024
    }

    /// `count` bytes in 4 MiB buffers (one, handed out again and again: a client this fast is what
    /// outruns an app that reads slower).
    struct GeneratedBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let count: Int

        struct AsyncIterator: AsyncIteratorProtocol {
            var left: Int
            let piece = ByteBuffer(bytes: (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })

            mutating func next() async -> ByteBuffer? {
                guard left > 0 else { return nil }
                let size = Swift.min(left, piece.readableBytes)
                left -= size
                return piece.getSlice(at: 0, length: size)
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(left: count) }

        /// The SHA-256 of all of it, as the app reports it.
        var sha256: String {
            var hash = SHA256()
            var left = count
            AsyncIterator(left: 0).piece.withUnsafeReadableBytes { piece in
                while left > 0 {
                    let size = Swift.min(left, piece.count)
                    hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: piece.prefix(size)))
                    left -= size
                }
            }
            return hash.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    @Test("128 MiB down, 256 MiB up with and without a length, stream through a signed-in session; the gateway's peak memory grows by under 16 MB")
    func streamsBothWays() async throws {
        // Both children at the lowest priority: moving this much takes the CPU from the timed suites beside it.
        try await PythonUpstream.run(niced: true) { upstream in
            try await withGateway(upstreamURL: upstream.url, niced: true) { base, session, gateway, _ in
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                do {
                    try await Self.stream(through: base, session: session, gateway: gateway, client: client)
                } catch {
                    try? await client.shutdown()
                    throw error
                }
                try await client.shutdown()
            }
        }
    }

    private static func stream(through base: String, session: String, gateway: GatehouseProcess, client: HTTPClient) async throws {
        let cookie = "gatehouse_session=\(session)"

        // Warm up (connections, buffers), then take the baseline.
        var warm = HTTPClientRequest(url: "\(base)/warm")
        warm.headers.add(name: "Cookie", value: cookie)
        _ = try await client.execute(warm, timeout: .seconds(30)).body.collect(upTo: 1 << 20)
        let before = try Self.peakMemory(of: gateway)

        var download = HTTPClientRequest(url: "\(base)/download?bytes=\(Self.downloadBytes)")
        download.headers.add(name: "Cookie", value: cookie)
        let answer = try await client.execute(download, timeout: .seconds(120))
        #expect(answer.status == .ok)
        #expect(answer.headers.first(name: "Content-Length") == String(Self.downloadBytes))
        var received = 0
        for try await part in answer.body { received += part.readableBytes }
        #expect(received == Self.downloadBytes)

        let generated = GeneratedBody(count: Self.transferBytes)
        for length in [HTTPClientRequest.Body.Length.known(Int64(Self.transferBytes)), .unknown] {
            var upload = HTTPClientRequest(url: "\(base)/upload")
            upload.method = .POST
            upload.headers.add(name: "Cookie", value: cookie)
            upload.body = .stream(generated, length: length)
            let echoed = try await client.execute(upload, timeout: .seconds(120))
            let echo = try JSONValue(parsing: Data(buffer: try await echoed.body.collect(upTo: 1 << 20)))
            #expect(echoed.status == .ok)
            #expect(echo["bodyBytes"]?.integerValue == Int64(Self.transferBytes))
            #expect(echo["bodySHA256"]?.stringValue == generated.sha256)
        }
        let growth = try Self.peakMemory(of: gateway) - before
        print(
            "proxy streaming: \(Self.downloadBytes >> 20) MiB down, 2 × \(Self.transferBytes >> 20) MiB up; gateway peak resident memory grew by \(growth >> 10) KiB"
        )
        #expect(growth < Self.growthLimit, "peak resident memory grew by \(growth >> 20) MB")
    }

    @Test("a Python app that answers 413 or 200 to an upload it never reads: each answer reaches the client, and the gateway serves on")
    func answersBeforeUploads() async throws {
        try await PythonUpstream.run { upstream in
            // withGateway also expects the gateway to stop cleanly: a crash fails the test.
            try await withGateway(upstreamURL: upstream.url) { base, session, _, _ in
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                do {
                    for (path, status) in [("/refuse", 413), ("/early", 200), ("/refuse", 413)] {
                        var upload = HTTPClientRequest(url: "\(base)\(path)")
                        upload.method = .POST
                        upload.headers.add(name: "Cookie", value: "gatehouse_session=\(session)")
                        upload.body = .stream(GeneratedBody(count: 2 << 20), length: .known(Int64(2 << 20)))
                        // The client may see its upload cut off once the answer is in: what matters is the answer.
                        let answer = try await client.execute(upload, timeout: .seconds(30))
                        #expect(Int(answer.status.code) == status, "\(path)")
                        #expect(String(buffer: try await answer.body.collect(upTo: 1 << 10)).hasPrefix(path == "/refuse" ? "refused" : "early"))
                    }
                    var check = HTTPClientRequest(url: "\(base)/after")
                    check.headers.add(name: "Cookie", value: "gatehouse_session=\(session)")
                    #expect(try await client.execute(check, timeout: .seconds(10)).status == .ok, "the gateway serves on")
                } catch {
                    try? await client.shutdown()
                    throw error
                }
                try await client.shutdown()
            }
        }
    }

    @Test("an app on a Unix socket is reached as unix:/path; the app's hop-by-hop answer headers stop at the gateway, its own pass")
    func unixSocketAndAnswerHeaders() async throws {
        let socket = try TestFixtures.temporaryDirectory().appendingPathComponent("app.sock").path
        try await PythonUpstream.run(socketPath: socket) { upstream in
            try await withGateway(upstreamURL: upstream.url) { base, session, _, http in
                let echo = try await http.send(.GET, "\(base)/over/the/socket?q=1", cookies: ["gatehouse_session": session])
                #expect(echo.status == 200)
                #expect(echo.json?["target"]?.stringValue == "/over/the/socket?q=1")
                let headers = echo.json?["headers"]?.arrayValue?.compactMap { $0.arrayValue?.first?.stringValue } ?? []
                #expect(headers.contains("X-Forwarded-User"))

                let hop = try await http.send(.GET, "\(base)/hop", cookies: ["gatehouse_session": session])
                #expect(hop.status == 200)
                for name in ["X-App-Hop", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade"] {
                    #expect(hop.headers[name].isEmpty, "\(name) reached the browser")
                }
                #expect(hop.headers.first(name: "X-App-End-To-End") == "kept")
                #expect(hop.headers.first(name: "X-Frame-Options") == "SAMEORIGIN", "the app's framing policy stands")
                #expect(hop.headers.first(name: "Cache-Control") == "no-store", "a gated answer is not stored")
                #expect(String(decoding: hop.body, as: UTF8.self) == "hop\n")
            }
        }
    }
}
