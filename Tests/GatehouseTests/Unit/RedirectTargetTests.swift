import Testing

@testable import Gatehouse

@Suite("Redirect targets")
struct RedirectTargetTests {
    static let hostile = [
        "", "dashboard", "https://evil.example", "http://evil.example/dashboard", "//evil.example", "///evil.example",
        "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "/path\\x", "javascript:alert(1)", "data:text/html,x",
        " /dashboard", "/dash board", "/dash\tboard", "/\t/evil.example", "/dash\r\nSet-Cookie: x=y", "/\n/evil.example",
        "/\u{0}x", "/\u{0B}x", "/\u{7F}x", "/\u{85}x", "/\u{A0}x", "/\u{2028}x", "/\u{200B}x", "/\u{FEFF}x",
        "\u{FF0F}\u{FF0F}evil.example", "/" + String(repeating: "a", count: 2048),
    ]
    static let legitimate = [
        "/", "/dashboard", "/dashboard/", "/a/b/c?x=1&y=2", "/reports#section", "/%2F%2Fevil.example",
        "/%5Cevil.example", "/caf\u{E9}", "/search?q=a%20b", "/@user", "/.well-known/x", "/a:b",
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

    @Test("the Location form percent-encodes non-ASCII and leaves ASCII alone")
    func locationHeader() {
        #expect(RedirectTarget(validating: "/caf\u{E9}?a=b")?.locationHeaderValue == "/caf%C3%A9?a=b")
    }
}
