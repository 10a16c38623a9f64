import HTTPTypes

/// What kind of answer a request wants: a page for a browser, JSON for everything else.
enum ClientPreference {
    /// How many media ranges of `Accept`, and parameters of one range, are read at most: a browser
    /// sends a handful, and a header made of thousands costs no more than a short one.
    static let rangeLimit = 32
    static let parameterLimit = 8

    /// Whether the request's `Accept` names `text/html` (with a non-zero quality).
    /// `*/*` alone does not count: command-line clients send it and want JSON.
    static func wantsHTML(_ headers: HTTPFields) -> Bool {
        examine(headers).wantsHTML
    }

    /// ``wantsHTML(_:)``, and how many ranges and parameters it read to decide.
    static func examine(_ headers: HTTPFields) -> (wantsHTML: Bool, itemsRead: Int) {
        var itemsRead = 0
        var ranges = 0
        for accept in headers[values: .accept] {
            var scanner = Scanner(accept.utf8[...])
            while ranges < rangeLimit, let range = scanner.next(until: UInt8(ascii: ",")) {
                ranges += 1
                itemsRead += 1
                var parameters = Scanner(range)
                guard let type = parameters.next(until: UInt8(ascii: ";")), Self.equals(type, "text/html") else { continue }
                var zeroQuality = false
                for _ in 0..<parameterLimit {
                    guard let parameter = parameters.next(until: UInt8(ascii: ";")) else { break }
                    itemsRead += 1
                    if Self.isZeroQuality(parameter) {
                        zeroQuality = true
                        break
                    }
                }
                if !zeroQuality { return (true, itemsRead) }
            }
        }
        return (false, itemsRead)
    }

    /// Walks a byte string item by item, between separators.
    private struct Scanner {
        var rest: Substring.UTF8View

        init(_ bytes: Substring.UTF8View) {
            rest = bytes
        }

        mutating func next(until separator: UInt8) -> Substring.UTF8View? {
            guard !rest.isEmpty else { return nil }
            let end = rest.firstIndex(of: separator) ?? rest.endIndex
            let item = rest[rest.startIndex..<end]
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            return item
        }
    }

    /// Whether `bytes`, without surrounding spaces and regardless of case, is `text`.
    private static func equals(_ bytes: Substring.UTF8View, _ text: StaticString) -> Bool {
        let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        guard trimmed.count == expected.count else { return false }
        return zip(trimmed, expected).allSatisfy { lowercased($0) == $1 }
    }

    /// `q=0`, `q=0.`, `q=0.000` (spaces around `=` allowed).
    private static func isZeroQuality(_ parameter: Substring.UTF8View) -> Bool {
        let compact = parameter.filter { $0 != 0x20 && $0 != 0x09 }.map(lowercased)
        guard compact.count >= 3, compact[0] == UInt8(ascii: "q"), compact[1] == UInt8(ascii: "="), compact[2] == UInt8(ascii: "0") else { return false }
        let fraction = compact.dropFirst(3)
        return fraction.isEmpty || (fraction.first == UInt8(ascii: ".") && fraction.dropFirst().allSatisfy { $0 == UInt8(ascii: "0") })
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}
