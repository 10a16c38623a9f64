import Foundation

/// A compact binary record of optional byte fields, for what session stores seal: a version byte,
/// then each field as a presence byte (0 absent, 1 present), a 4-byte big-endian length and the
/// bytes. Reading it back parses no JSON.
public enum LengthPrefixedFields {
    /// `version`, then `fields` in order.
    public static func encode(version: UInt8, _ fields: [Data?]) -> Data {
        var data = Data(capacity: 1 + fields.reduce(0) { $0 + 5 + ($1?.count ?? 0) })
        data.append(version)
        for field in fields {
            guard let field else {
                data.append(0)
                continue
            }
            data.append(1)
            withUnsafeBytes(of: UInt32(field.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(field)
        }
        return data
    }

    /// The `count` fields after the version byte, or `nil` when `data` is not exactly a record of
    /// that many fields with that version.
    public static func decode(_ data: Data, version: UInt8, count: Int) -> [Data?]? {
        guard data.first == version else { return nil }
        var reader = Reader(data: data, offset: data.startIndex + 1)
        var fields: [Data?] = []
        fields.reserveCapacity(count)
        for _ in 0..<count {
            guard let field = reader.next() else { return nil }
            fields.append(field)
        }
        return reader.isAtEnd ? fields : nil
    }

    /// Walks the fields of a record.
    private struct Reader {
        let data: Data
        var offset: Data.Index

        var isAtEnd: Bool { offset == data.endIndex }

        /// `.some(nil)` for an absent field, `nil` when the bytes run out or are not a field.
        mutating func next() -> Data?? {
            guard offset < data.endIndex else { return nil }
            let presence = data[offset]
            offset += 1
            switch presence {
            case 0:
                return .some(nil)
            case 1:
                guard data.endIndex - offset >= 4 else { return nil }
                let length = data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
                offset += 4
                guard data.endIndex - offset >= length else { return nil }
                defer { offset += length }
                return Data(data[offset..<offset + length])
            default:
                return nil
            }
        }
    }
}

extension Data {
    /// The bytes as UTF-8 text, or `nil` when they are not valid UTF-8.
    public var utf8Text: String? {
        String(validating: self, as: UTF8.self)
    }
}
