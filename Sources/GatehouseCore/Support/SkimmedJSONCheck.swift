/// Checks the parts of a JSON text that Foundation's `JSONDecoder` skims without checking.
///
/// The decoder scans a whole document, but validates a string's contents or a number's form only
/// when asked to decode that value. Text kept as it arrived (a provider's profile, passed on to
/// browsers) must be valid JSON everywhere, so its strings (no raw control character, only JSON's
/// escapes) and numbers (JSON's grammar: no leading zero, no bare `.` or `e`) are checked here.
/// Structure and the literals `true`, `false` and `null` are the decoder's to check.
enum SkimmedJSONCheck {
    /// Whether every string and number in `text` is written as JSON requires.
    static func stringsAndNumbersAreStrict(_ text: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\"") {
                guard let end = endOfString(text, openingAt: index) else { return false }
                index = end
            } else if byte == UInt8(ascii: "-") || isDigit(byte) {
                let start = index
                while index < text.count, isNumberByte(text[index]) { index += 1 }
                guard isNumber(text, start..<index) else { return false }
            } else {
                index += 1
            }
        }
        return true
    }

    /// The index after the closing quote of the string opening at `start`; `nil` if the string is not strict JSON.
    private static func endOfString(_ text: UnsafeRawBufferPointer, openingAt start: Int) -> Int? {
        var index = start + 1
        while index < text.count {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "\""):
                return index + 1
            case ..<0x20:
                return nil
            case UInt8(ascii: "\\"):
                guard index + 1 < text.count else { return nil }
                switch text[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard index + 5 < text.count, (index + 2...index + 5).allSatisfy({ isHexDigit(text[$0]) }) else { return nil }
                    index += 6
                default:
                    return nil
                }
            default:
                index += 1
            }
        }
        return nil
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private static func isNumber(_ text: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var index = range.lowerBound
        let end = range.upperBound
        func digits() -> Bool {
            let start = index
            while index < end, isDigit(text[index]) { index += 1 }
            return index > start
        }
        if index < end, text[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end else { return false }
        if text[index] == UInt8(ascii: "0") {
            index += 1
        } else if !digits() {
            return false
        }
        if index < end, text[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() else { return false }
        }
        if index < end, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") {
            index += 1
            if index < end, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() else { return false }
        }
        return index == end
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
            || byte == UInt8(ascii: "E")
    }
}
