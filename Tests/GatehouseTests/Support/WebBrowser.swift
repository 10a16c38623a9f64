import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import Gatehouse

/// A browser made of AsyncHTTPClient: it keeps cookies per host and port, follows nothing by itself,
/// and fills in the forms of the pages it is shown. For driving real servers (a gateway on a fixed
/// port, a real identity provider) the way a person would.
final class WebBrowser: Sendable {
    struct Page: Sendable {
        let url: URL
        let status: Int
        let headers: HTTPHeaders
        let body: String

        /// The `Location` header, resolved against the page's URL.
        var location: URL? {
            headers.first(name: "Location").flatMap { URL(string: $0, relativeTo: url)?.absoluteURL }
        }

        var json: JSONValue? { try? JSONValue(parsing: Data(body.utf8)) }

        /// The hidden inputs of the first form on the page (or of the form with `id`), and its action.
        func form(id: String? = nil) -> (action: URL, fields: [(String, String)])? {
            let forms = body.components(separatedBy: "<form").dropFirst()
            guard let form = forms.first(where: { id == nil || $0.contains("id=\"\(id!)\"") }) else { return nil }
            let tag = form.prefix { $0 != ">" }
            let action = Self.attribute("action", in: String(tag)).flatMap { URL(string: Self.unescape($0), relativeTo: url)?.absoluteURL } ?? url
            var fields: [(String, String)] = []
            for input in form.components(separatedBy: "<input").dropFirst() {
                let inputTag = String(input.prefix { $0 != ">" })
                guard Self.attribute("type", in: inputTag) == "hidden", let name = Self.attribute("name", in: inputTag) else { continue }
                fields.append((name, Self.unescape(Self.attribute("value", in: inputTag) ?? "")))
            }
            return (action, fields)
        }

        private static func attribute(_ name: String, in tag: String) -> String? {
            guard let range = tag.range(of: " \(name)=\"") else { return nil }
            return String(tag[range.upperBound...].prefix { $0 != "\"" })
        }

        private static func unescape(_ text: String) -> String {
            text.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&#34;", with: "\"")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        }
    }

    private let client: HTTPClient
    private let jar = Mutex<[String: [String: String]]>([:])

    init() {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        // Below the servers' keep-alive (hypercorn's, under Canaille, is 5 s): a connection kept
        // longer can be closed by the server just as it is reused ("I/O on closed channel").
        configuration.connectionPool.idleTimeout = .seconds(2)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async throws {
        try await client.shutdown()
    }

    /// The cookies held for `url`'s host and port.
    func cookies(for url: URL) -> [String: String] {
        jar.withLock { $0[Self.origin(of: url)] ?? [:] }
    }

    func setCookie(_ name: String, _ value: String?, for url: URL) {
        jar.withLock { $0[Self.origin(of: url), default: [:]][name] = value }
    }

    func get(_ url: URL, accept: String = "text/html") async throws -> Page {
        try await send(url, method: .GET, accept: accept)
    }

    func post(_ url: URL, form: [(String, String)], accept: String = "text/html", headers: [(String, String)] = []) async throws -> Page {
        try await send(url, method: .POST, accept: accept, headers: headers, body: PercentEncoding.formEncoded(form))
    }

    /// Runs `body` with a browser of its own, shut down afterwards whatever happens.
    static func with<Result>(_ body: (WebBrowser) async throws -> Result) async throws -> Result {
        let browser = WebBrowser()
        do {
            let result = try await body(browser)
            try await browser.shutdown()
            return result
        } catch {
            try? await browser.shutdown()
            throw error
        }
    }

    /// Follows `Location` headers from `page` while they lead somewhere `keepGoing` accepts.
    func follow(_ page: Page, while keepGoing: (URL) -> Bool = { _ in true }, limit: Int = 10) async throws -> Page {
        var current = page
        for _ in 0..<limit {
            guard (300..<400).contains(current.status), let next = current.location, keepGoing(next) else { return current }
            current = try await get(next)
        }
        return current
    }

    private func send(_ url: URL, method: HTTPMethod, accept: String, headers: [(String, String)] = [], body: String? = nil) async throws -> Page {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let cookies = cookies(for: url)
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 4 << 20))
        for header in response.headers["Set-Cookie"] {
            let pair = header.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let (name, value) = (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            let expired = header.lowercased().contains("max-age=0") || value.isEmpty
            setCookie(name, expired ? nil : value, for: url)
        }
        return Page(url: url, status: Int(response.status.code), headers: response.headers, body: text)
    }

    private static func origin(of url: URL) -> String {
        "\(url.host ?? ""):\(url.port ?? 80)"
    }
}
