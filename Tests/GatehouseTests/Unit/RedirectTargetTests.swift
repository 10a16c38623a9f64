import Testing

@testable import Gatehouse

@Suite("Redirect targets")
struct RedirectTargetTests {
    static let hostile = [
        "", "dashboard", "https://evil.example", "http://evil.example/dashboard", "//evil.example", "///evil.example",
        "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "/path\\x", "javascript:alert(1)", "data:text/html,x",
        " /dashboard", "/dash board", "/dash\tboard", "/\t/evil.example", "/dash\r\nSet-Cookie: x=y", "/\n/evil.example",
        "/\u{0}x", "/\u{0B}x", "/\u{7F}x", "/\u{85}x", "/\u{A0}x", "/\u{2028}x", "/\u{200B}x", "/\u{FEFF}x",
        "\u{FF0F}\u{FF0F}evil.example", "/\u{FF0F}evil.example", "/caf\u{E9}", "/" + String(repeating: "a", count: 2048),
    ]
    static let legitimate = [
        "/", "/dashboard", "/dashboard/", "/a/b/c?x=1&y=2", "/reports#section", "/%2F%2Fevil.example",
        "/%5Cevil.example", "/caf%C3%A9", "/search?q=a%20b", "/@user", "/.well-known/x", "/a:b",
    ]

    @Test("hostile targets are refused", arguments: hostile)
    func refused(_ candidate: String) {
        #expect(RedirectTarget(validating: candidate) == nil)
    }

    @Test("legitimate relative paths are kept as they are", arguments: legitimate)
    func kept(_ candidate: String) {
        #expect(RedirectTarget(validating: candidate)?.path == candidate)
    }

    @Test("resolve falls back for anything refused")
    func fallback() {
        let fallback = RedirectTarget(validating: "/dashboard")!
        #expect(RedirectTarget.resolve("//evil.example", fallback: fallback) == fallback)
        #expect(RedirectTarget.resolve(nil, fallback: fallback) == fallback)
        #expect(RedirectTarget.resolve("/reports", fallback: fallback).path == "/reports")
    }

    @Test("query values get exactly one strict decode; repeated or undecodable values are refused")
    func queryValues() {
        #expect(RedirectTarget(queryValue: "%2Fdashboard")?.path == "/dashboard")
        #expect(RedirectTarget(queryValue: "/%252F%252Fevil.example")?.path == "/%2F%2Fevil.example")
        #expect(RedirectTarget(queryValue: "%2F%2Fevil.example") == nil)
        #expect(RedirectTarget(queryValue: "/%C0%AF%C0%AFevil.example") == nil, "not UTF-8 after decoding")
        #expect(RedirectTarget(queryValue: "/caf%E9") == nil, "a lone Latin-1 byte is not UTF-8")
        #expect(RedirectTarget(queryValue: "/reports%2") == nil, "a cut-off escape")
        #expect(RedirectTarget(queryValue: "/reports%zz") == nil, "an escape without hex digits")
        #expect(RedirectTarget.fromQuery("a=1&next=%2Freports&b=2")?.path == "/reports")
        #expect(RedirectTarget.fromQuery("next=/a&next=/b") == nil, "ambiguous")
        #expect(RedirectTarget.fromQuery("nextx=/a") == nil)
        #expect(RedirectTarget.fromQuery(nil) == nil)
    }
}
