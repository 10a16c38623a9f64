import Foundation

/// The user of an OpenID Connect sign-in: the ID token's claims, merged with the userinfo
/// endpoint's answer when the provider has one.
public enum OpenIDProfile {
    /// The profile for `subject`: id `sub`, email `email`, name `name` (else given and family
    /// name, else `preferred_username`), and as its object the claims with userinfo's members
    /// laid over them (userinfo is the fresher word).
    ///
    /// - Parameters:
    ///   - claims: the ID token's payload text, already decoded once (``IDTokenClaims``).
    ///   - userinfo: userinfo's object text (``readUserInfo(status:body:subject:)``), or `nil`.
    public static func make(subject: String, claims: Data, userinfo: Data?) throws(ProviderError) -> UserProfile {
        let text: Data
        let members: StandardClaims
        if let userinfo {
            guard let claimMembers = (try? JSONValue(parsing: claims))?.objectValue,
                let userinfoMembers = (try? JSONValue(parsing: userinfo))?.objectValue
            else { throw .badResponse(reason: "the provider's claims are not JSON objects") }
            let merged = claimMembers.merging(userinfoMembers) { $1 }
            text = JSONValue.object(merged).encoded()
            members = StandardClaims(merged)
        } else {
            guard let strict = JSONObjectText.strict(claims) else { throw CompactJWT.rejected("has claims that are not strict JSON") }
            guard let decoded = try? JSONDecoder().decode(StandardClaims.self, from: strict) else {
                throw .badResponse(reason: "the provider's claims are not a JSON object")
            }
            (text, members) = (strict, decoded)
        }
        let fullName = [members.given_name, members.family_name].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        let name = [members.name, fullName, members.preferred_username].compactMap { $0 }.first { !$0.isEmpty }
        return UserProfile(id: subject, email: members.email.flatMap { $0.isEmpty ? nil : $0 }, name: name, json: text)
    }

    /// Reads a userinfo answer (OpenID Connect Core §5.3) into its object's text. The answer must
    /// be about `subject` (§5.3.4); 401 or 403 means the access token is no longer accepted.
    public static func readUserInfo(status: Int, body: Data, subject: String?) throws(ProviderError) -> Data {
        switch status {
        case 200..<300:
            break
        case 401, 403:
            throw .tokenRejected(reason: "the userinfo endpoint no longer accepts the access token (HTTP \(status))")
        case 429:
            throw .rateLimited()
        default:
            throw .badResponse(reason: "the userinfo endpoint answered HTTP \(status)")
        }
        guard let answer = try? JSONDecoder().decode(UserInfoSubject.self, from: body), let text = JSONObjectText.strict(body) else {
            throw .badResponse(reason: "the userinfo endpoint answered something that is not a JSON object with a sub")
        }
        if let subject, answer.sub != subject {
            throw .badResponse(reason: "the userinfo endpoint answered for another subject than the ID token's")
        }
        return text
    }

    /// The standard claims the profile's fields come from; each reads as absent when mistyped.
    private struct StandardClaims: Decodable {
        let email: String?
        let name: String?
        let given_name: String?
        let family_name: String?
        let preferred_username: String?

        private enum CodingKeys: String, CodingKey {
            case email, name, given_name, family_name, preferred_username
        }

        /// The claims from members already parsed (a merged object).
        init(_ members: [String: JSONValue]) {
            func text(_ key: CodingKeys) -> String? { members[key.rawValue]?.stringValue }
            (email, name, given_name, family_name, preferred_username) = (
                text(.email), text(.name), text(.given_name), text(.family_name), text(.preferred_username)
            )
        }

        init(from decoder: any Decoder) throws {
            let members = try decoder.container(keyedBy: CodingKeys.self)
            func text(_ key: CodingKeys) -> String? { (try? members.decodeIfPresent(String.self, forKey: key)) ?? nil }
            (email, name, given_name, family_name, preferred_username) = (
                text(.email), text(.name), text(.given_name), text(.family_name), text(.preferred_username)
            )
        }
    }

    private struct UserInfoSubject: Decodable {
        let sub: String
    }
}
