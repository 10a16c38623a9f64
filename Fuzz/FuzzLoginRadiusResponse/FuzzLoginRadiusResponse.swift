import Foundation
import GatehouseCore
import LibFuzzerDriver

/// Starts libFuzzer's driver: SwiftPM links `main` to this function.
@_cdecl("FuzzLoginRadiusResponse_main")
public func fuzzLoginRadiusResponseMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzLoginRadiusResponse(data, size) }
}

/// The function libFuzzer calls with each input: the first byte picks an HTTP status, the rest is the provider's body.
///
/// Every answer must become a profile or a `ProviderError` (the decoder's typed throws make any
/// other outcome a crash). A profile must have an id, its profile text must parse as a JSON object
/// (the dashboard embeds it as it is), and it must survive the round trip that storing it in a
/// session takes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLoginRadiusResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let statuses = [200, 200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 503]
    let status = statuses[Int(data[0]) % statuses.count]
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)

    if let profile = try? LoginRadiusResponse.profile(status: status, body: body) {
        precondition(!profile.id.isEmpty, "a profile without an id was accepted")
        precondition((try? JSONValue(parsing: profile.json))?.objectValue != nil, "a profile's text is not a JSON object")
        let restored = UserProfile(storedRepresentation: profile.storedRepresentation)
        precondition(restored?.id == profile.id && restored?.email == profile.email && restored?.json == profile.json, "a profile changed when stored")
    }
    do {
        try LoginRadiusResponse.invalidation(status: status, body: body)
    } catch {
        _ = error.description
    }
    return 0
}
