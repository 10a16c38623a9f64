import Foundation
import GatehouseCore
import LibFuzzerDriver

/// Starts libFuzzer's driver: SwiftPM links `main` to this function.
@_cdecl("FuzzRedirectTarget_main")
public func fuzzRedirectTargetMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzRedirectTarget(data, size) }
}

/// The function libFuzzer calls with each input: here, each input is a raw query string, as a browser could send it.
///
/// Beyond "never crash", a target that is accepted must keep a browser on the gateway's own
/// origin. That is checked with an independent oracle, Foundation's URL resolution against a
/// base URL, rather than by repeating the validator's own rules.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedirectTarget(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for target in [RedirectTarget(validating: text), RedirectTarget(queryValue: text), RedirectTarget.fromQuery(text)].compactMap({ $0 }) {
        checkStaysOnOrigin(target)
    }
    return 0
}

private let base = URL(string: "https://gatehouse.example/login")!

private func checkStaysOnOrigin(_ target: RedirectTarget) {
    let location = target.locationHeaderValue
    precondition(location.utf8.count <= RedirectTarget.maximumLength, "an accepted target is too long")
    precondition(location.utf8.allSatisfy { (0x21...0x7E).contains($0) }, "an accepted target has a byte a header cannot carry")
    guard let resolved = URL(string: location, relativeTo: base)?.absoluteURL else { return }
    precondition(resolved.host == "gatehouse.example", "accepted \(location) resolves to host \(resolved.host ?? "none")")
    precondition(resolved.scheme == "https", "accepted \(location) resolves to scheme \(resolved.scheme ?? "none")")
}
