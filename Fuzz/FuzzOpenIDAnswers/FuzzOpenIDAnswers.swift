import Foundation
import GatehouseCore
import LibFuzzerDriver

/// Starts libFuzzer's driver: SwiftPM links `main` to this function.
@_cdecl("FuzzOpenIDAnswers_main")
public func fuzzOpenIDAnswersMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOpenIDAnswers(data, size) }
}

/// The function libFuzzer calls with each input: the first byte picks the answer (discovery,
/// token endpoint, JWKS, userinfo) and an HTTP status, the rest is the provider's body.
///
/// Every answer must be read or refused with a `ProviderError` (typed throws make any other
/// outcome a crash), and what is read must hold what the gateway relies on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOpenIDAnswers(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let statuses = [200, 200, 200, 400, 401, 403, 429, 500]
    let status = statuses[Int(data[0] >> 2) % statuses.count]
    let body = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let issuer = "https://idp.example.com/realms/main"

    switch data[0] & 0b11 {
    case 0:
        if let metadata = try? OpenIDProviderMetadata.read(status: status, body: body, expectedIssuer: issuer) {
            precondition(metadata.issuer == issuer, "a discovery document naming another issuer was accepted")
            for endpoint in [metadata.authorizationEndpoint, metadata.tokenEndpoint, metadata.jwksURI] {
                precondition(endpoint.hasPrefix("https://"), "an endpoint that is not https was accepted for an https issuer")
            }
        }
    case 1:
        do {
            let tokens = try OpenIDTokenResponse.read(status: status, body: body)
            precondition((200..<300).contains(status), "a failed answer gave tokens")
            precondition(!tokens.accessToken.value.isEmpty && tokens.accessToken.value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F })
        } catch {
            _ = error.description
        }
    case 2:
        if let keys = try? JSONWebKeySet.signingKeys(in: body) {
            precondition(!keys.isEmpty && keys.count <= JSONWebKeySet.maximumKeys)
            precondition(Set(keys.map(\.keyID)).count == keys.count, "two keys under one kid")
            for key in keys {
                precondition(key.algorithm.map(CompactJWT.acceptedAlgorithms.contains) ?? true, "a key for an algorithm that is refused")
                precondition((try? JSONValue(parsing: key.json))?["kid"]?.stringValue == key.keyID)
            }
        }
    default:
        if let userinfo = try? OpenIDProfile.readUserInfo(status: status, body: body, subject: "user-1"),
            let profile = try? OpenIDProfile.make(subject: "user-1", claims: Data(#"{"sub":"user-1"}"#.utf8), userinfo: userinfo)
        {
            precondition(profile.id == "user-1", "userinfo changed who the profile is about")
            precondition((try? JSONValue(parsing: profile.json))?.objectValue != nil, "a profile's text is not a JSON object")
        }
    }
    return 0
}
