import Foundation

/// The text of one JSON object, checked strictly enough to be embedded in another JSON document
/// as it is (a provider's profile or claims, passed on to browsers).
public enum JSONObjectText {
    /// `body` itself when it is one object in strict JSON text (surrounding whitespace trimmed),
    /// else the object re-encoded from a strict parse; `nil` when `body` is no JSON object.
    ///
    /// For callers that have already decoded `body` with Foundation's decoder, which checks the
    /// structure but skims members it is not asked for: what it skims is checked here (valid
    /// UTF-8, strict strings and numbers; ``SkimmedJSONCheck``) without parsing again.
    public static func strict(_ body: Data) -> Data? {
        let object: Range<Int>? = body.withUnsafeBytes { bytes in
            let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
            guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }),
                bytes[first] == UInt8(ascii: "{"), bytes[last] == UInt8(ascii: "}")
            else { return nil }
            let text = UnsafeRawBufferPointer(rebasing: bytes[first...last])
            guard String(validating: text, as: UTF8.self) != nil, SkimmedJSONCheck.stringsAndNumbersAreStrict(text) else { return nil }
            return first..<last + 1
        }
        if let object {
            return body.count == object.count ? body : body.subdata(in: body.startIndex + object.lowerBound..<body.startIndex + object.upperBound)
        }
        guard let strict = try? JSONValue(parsing: body), strict.objectValue != nil else { return nil }
        return strict.encoded()
    }
}
