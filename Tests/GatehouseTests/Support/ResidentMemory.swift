import Foundation

/// This process's resident memory, from `/proc/self/status` (Linux), for tests that report it.
enum ResidentMemory {
    /// Resident bytes now; 0 where `/proc` is unavailable.
    static func current(pid: String = "self") -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}
