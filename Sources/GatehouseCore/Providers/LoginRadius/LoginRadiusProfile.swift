extension UserProfile {
    /// Reads a LoginRadius profile object given as a tree (fixtures, the mock's users) exactly as
    /// an answer from the API is read (see ``LoginRadiusResponse/profile(status:body:)``). Returns
    /// `nil` when the object has no usable id.
    public init?(loginRadiusProfile object: [String: JSONValue]) {
        guard let profile = try? LoginRadiusResponse.profile(status: 200, body: JSONValue.object(object).encoded()) else { return nil }
        self = profile
    }
}
