import Foundation

extension UserProfile {
    /// The profile as session stores keep it (sealed) on disk: a version byte, then the id, the
    /// email, the name and the profile's JSON text, each as a presence byte, a 4-byte big-endian
    /// length and the bytes. Reading it back parses no JSON.
    public var storedRepresentation: Data {
        var data = Data(capacity: 1 + 4 * 5 + id.utf8.count + (email?.utf8.count ?? 0) + (name?.utf8.count ?? 0) + json.count)
        data.append(Self.storageVersion)
        for field in [Data(id.utf8), email.map { Data($0.utf8) }, name.map { Data($0.utf8) }, json] {
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

    /// Reads ``storedRepresentation``; `nil` for anything else, whatever the bytes.
    ///
    /// Also reads the JSON of earlier versions (`{"id", "email", "name", "attributes"}`), so sessions
    /// stored before this format keep working.
    public init?(storedRepresentation data: Data) {
        guard let first = data.first else { return nil }
        if first == UInt8(ascii: "{") {
            guard let legacy = try? JSONDecoder().decode(LegacyStoredProfile.self, from: data) else { return nil }
            self.init(id: legacy.id, email: legacy.email, name: legacy.name, attributes: legacy.attributes)
            return
        }
        guard first == Self.storageVersion else { return nil }
        var reader = FieldReader(data: data, offset: data.startIndex + 1)
        guard let id = reader.next(), let id, let email = reader.next(), let name = reader.next(), let json = reader.next(), let json,
            reader.isAtEnd, let idText = String(validating: id, as: UTF8.self)
        else { return nil }
        let emailText = email.flatMap { String(validating: $0, as: UTF8.self) }
        let nameText = name.flatMap { String(validating: $0, as: UTF8.self) }
        guard (email == nil) == (emailText == nil), (name == nil) == (nameText == nil) else { return nil }
        self.init(id: idText, email: emailText, name: nameText, json: json)
    }

    private static let storageVersion: UInt8 = 1

    /// Walks the length-prefixed fields of ``storedRepresentation``.
    private struct FieldReader {
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

    /// How earlier versions stored a profile.
    private struct LegacyStoredProfile: Decodable {
        let id: String
        let email: String?
        let name: String?
        let attributes: [String: JSONValue]
    }
}
