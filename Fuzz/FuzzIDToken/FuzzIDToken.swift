import Foundation
import GatehouseCore
import LibFuzzerDriver

/// Starts libFuzzer's driver: SwiftPM links `main` to this function.
@_cdecl("FuzzIDToken_main")
public func fuzzIDTokenMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzIDToken(data, size) }
}

/// The function libFuzzer calls with each input: the input is an ID token as a provider might
/// send it (a compact JWT), split, decoded and checked as the gateway does before and after its
/// signature is verified.
///
/// Refusals are `ProviderError`s; anything accepted must name an accepted algorithm, and claims
/// that pass must be the expected issuer's, for this client, with this nonce, and in date.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDToken(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let token = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let jwt = try? CompactJWT(token) else { return 0 }
    precondition(CompactJWT.acceptedAlgorithms.contains(jwt.header.alg), "a token with a refused algorithm was split")
    guard let claims = try? IDTokenClaims(payload: jwt.payload) else { return 0 }
    let now = Date(timeIntervalSince1970: 1_800_000_100)
    let expectations = IDTokenExpectations(issuer: "https://idp.example.com", clientID: "gatehouse", nonce: "n-1")
    if (try? expectations.check(claims, now: now)) != nil {
        precondition(claims.issuer == "https://idp.example.com" && claims.audience.contains("gatehouse") && claims.nonce == "n-1")
        precondition(claims.expiresAt.timeIntervalSince(now) > -expectations.leeway && !claims.subject.isEmpty)
        _ = try? OpenIDProfile.make(subject: claims.subject, claims: jwt.payload, userinfo: nil)
    }
    return 0
}
