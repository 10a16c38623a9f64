import Foundation
import GatehouseCore
import Testing

@testable import Gatehouse

/// What reaches the app of a browser's request target (contract §10: unchanged).
@Suite("Upstream request target")
struct UpstreamRequestTargetTests {
    @Test("a well-formed target is passed as sent, byte for byte")
    func wellFormed() {
        for target in [
            "/", "/a/b?c=d&e=f", "/a%20b/../c?x=1&y=%2F", "/~user/a;b=c", "/a//b/./c", "/x?q=a+b&r=%E4%C3", "/x?", "/x?a=1&a=2",
            "/path:with@colons/!$&'()*+,;=", "/x?q=/slash?and?question",
        ] {
            #expect(UpstreamRequestTarget.escaped(target) == target, "\(target)")
        }
    }

    @Test("only what a URI may not hold is escaped; escapes that were there stay; a fragment is dropped")
    func malformed() {
        let cases: [(String, String)] = [
            ("/x?q=100%", "/x?q=100%25"),
            ("/x?q=a%20b&r=%zz", "/x?q=a%20b&r=%25zz"),
            ("/x?q=%2", "/x?q=%252"),
            ("/a b", "/a%20b"),
            ("/\u{E4}", "/%C3%A4"),
            ("/x?q=<\"{a|b}\">", "/x?q=%3C%22%7Ba%7Cb%7D%22%3E"),
            ("/[x]\\^`", "/%5Bx%5D%5C%5E%60"),
            ("/x\u{01}", "/x%01"),
            ("/x?a=1#frag", "/x?a=1"),
            ("/x#f%zz", "/x"),
        ]
        for (target, expected) in cases {
            #expect(UpstreamRequestTarget.escaped(target) == expected, "\(target.debugDescription)")
        }
    }

    @Test("on generated targets: escaping is idempotent, AsyncHTTPClient sends the escaped target as it is, and it means what was sent")
    func generated() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab/?%=&+;:@~.-_!'()*,$ \"<>[]\\^`{|}09AFaf\u{E4}\u{1F600}\u{01}\u{7F}")
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &generator)
            let target = "/" + String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            let escaped = UpstreamRequestTarget.escaped(target)
            #expect(UpstreamRequestTarget.escaped(escaped) == escaped, "escaping twice changes nothing: \(target.debugDescription)")
            // A path whose escapes are no UTF-8 is claimed by no upstream (the gateway cannot read its
            // policy) and never reaches AsyncHTTPClient, which would send such a path as `/`.
            if RequestPath.normalized(target) != nil {
                let sent = try Self.requestTargetSent(for: escaped)
                #expect(sent == escaped, "AsyncHTTPClient sends \(escaped.debugDescription) as it is")
            }
            #expect(Self.unescaped(escaped) == Self.unescaped(Self.literalPercents(target)), "\(target.debugDescription)")
        }
    }

    /// The request target AsyncHTTPClient 1.x writes for a URL made of an origin and `target`: it
    /// parses the URL with Foundation and writes its percent-encoded path and its query.
    private static func requestTargetSent(for target: String) throws -> String {
        let url = try #require(URL(string: "http://app.test" + target), "\(target.debugDescription)")
        let path = url.path.isEmpty ? "/" : (URLComponents(url: url, resolvingAgainstBaseURL: true)?.percentEncodedPath ?? url.path)
        return path + (url.query.map { "?" + $0 } ?? "")
    }

    /// `target` with each `%` that starts no escape written as `%25`: the bytes a server reads it as.
    private static func literalPercents(_ target: String) -> String {
        let bytes = Array(target.utf8)
        var result: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            let startsEscape = index + 2 < bytes.count && bytes[index + 1].isHexDigit && bytes[index + 2].isHexDigit
            result += byte == UInt8(ascii: "%") && !startsEscape ? Array("%25".utf8) : [byte]
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The bytes a target stands for, escapes decoded (the fragment dropped).
    private static func unescaped(_ target: String) -> [UInt8] {
        let bytes = Array(target.utf8.prefix { $0 != UInt8(ascii: "#") })
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let value = UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                result.append(value)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
