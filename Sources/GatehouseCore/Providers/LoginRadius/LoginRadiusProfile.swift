extension UserProfile {
    /// Reads a LoginRadius profile object: `Uid` (or `ID`) is the user id, the `Primary` entry of
    /// `Email` (else the first) the email, and `FullName`, else first and last name, else `UserName`,
    /// the display name. Returns `nil` when the object has no usable id.
    public init?(loginRadiusProfile object: [String: JSONValue]) {
        let id = [object["Uid"], object["ID"]]
            .compactMap { $0?.stringValue }
            .first { !$0.isEmpty }
        guard let id else { return nil }

        let emails = (object["Email"]?.arrayValue ?? []).compactMap(\.objectValue)
        let primary = emails.first { $0["Type"]?.stringValue?.lowercased() == "primary" } ?? emails.first
        let email = primary?["Value"]?.stringValue

        let fullName = object["FullName"]?.stringValue
        let joined = [object["FirstName"], object["LastName"]]
            .compactMap { $0?.stringValue }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
        let name = [fullName, joined, object["UserName"]?.stringValue]
            .compactMap { $0 }
            .first { !$0.isEmpty }

        self.init(id: id, email: email, name: name, attributes: object)
    }
}
