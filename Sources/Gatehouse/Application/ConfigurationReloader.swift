import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Reads the configuration again on SIGHUP and when its file changes, and applies what may change
/// while the gateway serves (``LiveSettings``).
///
/// A reload that would give an invalid configuration changes nothing and logs why; a setting that
/// changed but only takes effect at start (the listen address, the store, the keys) is reported as
/// needing a restart and left as it is. The process ignores SIGHUP's default (ending it) once this
/// service is made.
public final class ConfigurationReloader: Service, Sendable {
    /// What one reload came to.
    public enum Outcome: Sendable, Equatable {
        /// Nothing differs from what runs.
        case unchanged
        /// The reloadable settings in `applied` took effect; those in `needRestart` changed but wait.
        case reloaded(applied: [String], needRestart: [String])
        /// The configuration has problems: nothing changed.
        case refused([ConfigurationProblem])
    }

    private let sources: ConfigurationSources
    private let live: LiveSettings
    private let logger: Logger
    private let pollInterval: Duration
    private let running: Mutex<[String: String]>
    /// The file's modification time as the last reload (or the start) saw it.
    private let fileModified: Mutex<Date?>

    /// - Parameters:
    ///   - loaded: the configuration the gateway started with, read from `sources`.
    ///   - pollInterval: how often the file's modification time is looked at.
    public init(sources: ConfigurationSources, loaded: LoadedConfiguration, live: LiveSettings, logger: Logger, pollInterval: Duration = .seconds(2)) {
        self.sources = sources
        self.live = live
        self.logger = logger
        self.pollInterval = pollInterval
        self.running = Mutex(Self.values(of: loaded))
        self.fileModified = Mutex(sources.file.flatMap(Self.modificationDate(of:)))
        // SIGHUP would end the process; from now on it asks for a reload.
        signal(SIGHUP, SIG_IGN)
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        let file = sources.file
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in signals {
                        await self.reload(because: "SIGHUP")
                    }
                }
                if let file {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: self.pollInterval)
                            if Self.modificationDate(of: file) != self.fileModified.withLock({ $0 }) {
                                await self.reload(because: "the file \(file) changed")
                            }
                        }
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// Reads the configuration again and applies what it may; `reason` goes into the log.
    @discardableResult
    public func reload(because reason: String = "asked") async -> Outcome {
        if let file = sources.file {
            let modified = Self.modificationDate(of: file)
            fileModified.withLock { $0 = modified }
        }
        let loaded: LoadedConfiguration
        do {
            loaded = try await ConfigurationLoader.load(sources)
        } catch {
            logger.error(
                "Configuration reload refused: nothing was changed",
                metadata: ["reason": "\(reason)", "problems": "\(error.problems.map(\.description).joined(separator: "; "))"]
            )
            return .refused(error.problems)
        }
        let values = Self.values(of: loaded)
        // Keys in either: a list entry removed (access.routes.1.*) is a change too.
        let changed = running.withLock { running in
            Set(values.keys).union(running.keys).filter { values[$0] != running[$0] }.sorted()
        }
        guard !changed.isEmpty else {
            logger.info("Configuration reloaded: nothing changed", metadata: ["reason": "\(reason)"])
            return .unchanged
        }
        let applied = changed.filter(LiveSettings.isReloadable)
        let needRestart = changed.filter { !LiveSettings.isReloadable($0) }
        live.apply(loaded.configuration)
        running.withLock { running in
            for key in applied { running[key] = values[key] }  // nil for a removed key
        }
        if !applied.isEmpty {
            logger.notice("Configuration reloaded", metadata: ["reason": "\(reason)", "applied": "\(applied.joined(separator: ", "))"])
        }
        if !needRestart.isEmpty {
            logger.warning(
                "Configuration changed in settings that need a restart; they keep their running values",
                metadata: ["reason": "\(reason)", "needs.restart": "\(needRestart.joined(separator: ", "))"]
            )
        }
        return .reloaded(applied: applied, needRestart: needRestart)
    }

    /// Each setting's shown value, by key (secrets are `<redacted>`, so a changed secret shows as
    /// unchanged: secrets need a restart anyway).
    private static func values(of loaded: LoadedConfiguration) -> [String: String] {
        Dictionary(loaded.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    private static func modificationDate(of path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
