import Foundation
import HTTPTypes

/// What kind of answer a request wants: a page for a browser, JSON for everything else.
enum ClientPreference {
    /// Whether the request's `Accept` names `text/html` (with a non-zero quality).
    /// `*/*` alone does not count: command-line clients send it and want JSON.
    static func wantsHTML(_ headers: HTTPFields) -> Bool {
        for accept in headers[values: .accept] {
            for range in accept.split(separator: ",") {
                let parameters = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard parameters.first == "text/html" else { continue }
                let zeroQuality = parameters.dropFirst().contains {
                    $0.replacingOccurrences(of: " ", with: "").range(of: #"^q=0(\.0*)?$"#, options: .regularExpression) != nil
                }
                if !zeroQuality { return true }
            }
        }
        return false
    }
}
