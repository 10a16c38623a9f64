import Foundation
import Testing

@testable import Gatehouse

@Suite("URL and cookie encodings")
struct EncodingTests {
    static let values = [
        "", "plain", "http://gatehouse.test/login/callback/abc_DEF-123", "a b&c=d?e#f/g%h+i", "~._-", "ÿ", "Ada Łovelace", "／evil", "😀",
        "\u{0}\r\n\t", String(repeating: "xy/", count: 200),
    ]

    @Test("percent-encoding leaves exactly RFC 3986's unreserved characters, as Foundation does", arguments: values)
    func percentEncoding(_ value: String) {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        #expect(PercentEncoding.encodeComponent(value) == value.addingPercentEncoding(withAllowedCharacters: unreserved))
        #expect(PercentEncoding.encodeComponent(value).removingPercentEncoding == value)
    }

    @Test("base64url: RFC 4648 §5 without padding, and back, for every length and byte")
    func base64URL() throws {
        for length in 0..<70 {
            let bytes = SecureRandom.bytes(length)
            #expect(bytes.count == length)
            let encoded = Base64URL.encode(bytes)
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(encoded == expected)
            #expect(Base64URL.decode(encoded) == bytes)
        }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
    }

    @Test("random bytes differ from draw to draw")
    func randomness() {
        let draws = Set((0..<100).map { _ in SecureRandom.bytes(32) })
        #expect(draws.count == 100)
    }
}
