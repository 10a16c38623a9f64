import Foundation
import NIOHTTP1

/// How the gateway proves itself to the token and revocation endpoints (OpenID Connect Core §9).
enum ClientAuthentication: Sendable, Equatable {
    /// `client_secret_basic`: the id and secret, form-encoded, in `Authorization: Basic`.
    case basic(clientID: String, secret: String)
    /// `client_secret_post`: the id and secret in the form.
    case post(clientID: String, secret: String)
    /// A public client: its id in the form, PKCE alone proving the login.
    case none(clientID: String)

    /// The method for this client: none without a secret; with one, `client_secret_basic` when
    /// `supported` allows it, else `client_secret_post` when it allows that, else basic.
    static func choose(clientID: String, secret: String?, supported: [String]) -> ClientAuthentication {
        guard let secret else { return .none(clientID: clientID) }
        if !supported.contains("client_secret_basic"), supported.contains("client_secret_post") {
            return .post(clientID: clientID, secret: secret)
        }
        return .basic(clientID: clientID, secret: secret)
    }

    /// Adds the credentials to a request's form and headers.
    func apply(to form: inout [(String, String)], headers: inout HTTPHeaders) {
        switch self {
        case .basic(let clientID, let secret):
            // RFC 6749 §2.3.1: each part form-encoded before the two are joined and base64'd.
            let pair = PercentEncoding.encodeComponent(clientID) + ":" + PercentEncoding.encodeComponent(secret)
            headers.replaceOrAdd(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        case .post(let clientID, let secret):
            form += [("client_id", clientID), ("client_secret", secret)]
        case .none(let clientID):
            form.append(("client_id", clientID))
        }
    }
}
