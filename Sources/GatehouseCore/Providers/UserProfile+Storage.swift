import Foundation

extension UserProfile {
    /// The profile as session stores keep it (sealed) on disk: the id, the email, the name and the
    /// profile's JSON text as ``LengthPrefixedFields``. Reading it back parses no JSON.
    public var storedRepresentation: Data {
        LengthPrefixedFields.encode(version: Self.storageVersion, [Data(id.utf8), email.map { Data($0.utf8) }, name.map { Data($0.utf8) }, json])
    }

    /// Reads ``storedRepresentation``; `nil` for anything else, whatever the bytes.
    ///
    /// Also reads the JSON of earlier versions (`{"id", "email", "name", "attributes"}`), so sessions
    /// stored before this format keep working.
    public init?(storedRepresentation data: Data) {
        if data.first == UInt8(ascii: "{") {
            guard let legacy = try? JSONDecoder().decode(LegacyStoredProfile.self, from: data) else { return nil }
            self.init(id: legacy.id, email: legacy.email, name: legacy.name, attributes: legacy.attributes)
            return
        }
        guard let fields = LengthPrefixedFields.decode(data, version: Self.storageVersion, count: 4),
            let idText = fields[0]?.utf8Text, let json = fields[3]
        else { return nil }
        let emailText = fields[1]?.utf8Text
        let nameText = fields[2]?.utf8Text
        guard (fields[1] == nil) == (emailText == nil), (fields[2] == nil) == (nameText == nil) else { return nil }
        self.init(id: idText, email: emailText, name: nameText, json: json)
    }

    private static let storageVersion: UInt8 = 1

    /// How earlier versions stored a profile.
    private struct LegacyStoredProfile: Decodable {
        let id: String
        let email: String?
        let name: String?
        let attributes: [String: JSONValue]
    }
}
