import HTTPTypes
import Testing

@testable import Gatehouse

@Suite("What a client wants (Accept)")
struct ClientPreferenceTests {
    static func accept(_ values: String...) -> HTTPFields {
        HTTPFields(values.map { HTTPField(name: .accept, value: $0) })
    }

    @Test(
        "text/html with a non-zero quality is a browser; */* alone, q=0 and other types are not",
        arguments: [
            ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true),
            ("TEXT/HTML", true),
            (" text/html ; charset=utf-8", true),
            ("text/html;q=0.5", true),
            ("text/html;q=0", false),
            ("text/html; q = 0.000", false),
            ("text/html;q=0.", false),
            ("text/html;q=0.01", true),
            ("*/*", false),
            ("application/json", false),
            ("text/htmlx", false),
            ("", false),
        ]
    )
    func preference(accept: String, wantsHTML: Bool) {
        #expect(ClientPreference.wantsHTML(Self.accept(accept)) == wantsHTML)
    }

    @Test("a 32 KiB header of parameters or ranges is read no further than a short one: the work is capped, whatever the size")
    func boundedWork() {
        let short = ClientPreference.examine(Self.accept("text/html;a;a;a;a;a;a;a;a;q=0"))
        let parameters = ClientPreference.examine(Self.accept("text/html" + String(repeating: ";a", count: 16_384) + ";q=0"))
        let ranges = ClientPreference.examine(Self.accept(String(repeating: "x/y,", count: 8_192) + "text/html"))
        let many = ClientPreference.examine(HTTPFields((0..<500).map { _ in HTTPField(name: .accept, value: "a/b;q=1") }))
        #expect(short.itemsRead == 1 + ClientPreference.parameterLimit)
        #expect(parameters.itemsRead == short.itemsRead, "parameters past the limit are not read")
        #expect(parameters.wantsHTML, "a quality hidden past the limit does not count")
        #expect(ranges.itemsRead == ClientPreference.rangeLimit)
        #expect(!ranges.wantsHTML, "a range past the limit does not count")
        #expect(many.itemsRead == ClientPreference.rangeLimit, "the limit spans every Accept header")
    }
}
