import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program started with `posix_spawn`, its standard output and error on one pipe.
///
/// Not Foundation's `Process`: its `run()` has crashed this test process in memcpy, in CI and
/// here, while suites running beside it held over a thousand descriptors open.
struct SpawnedChild {
    let pid: pid_t
    /// The pipe's read end, which the caller reads to its end and closes.
    let output: Int32

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `executable` with `arguments` and exactly `environment`, in `directory`.
    static func start(executable: String, arguments: [String], environment: [String: String], directory: String) throws -> SpawnedChild {
        guard let closeFrom = Self.closeFrom, let changeDirectory = Self.changeDirectory else {
            throw Failure(description: "glibc 2.34 or later is needed (posix_spawn_file_actions_addclosefrom_np)")
        }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw Failure(description: "pipe failed: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        // Nothing else of this process's is inherited: a socket a suite beside holds (a port it
        // reserved, say) must not stay open in a child after the suite closes it.
        _ = closeFrom(&actions, 3)
        _ = changeDirectory(&actions, directory)

        // The child starts with no signal blocked and the usual handlers, whatever this process set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(ends[1])
        guard result == 0 else {
            close(ends[0])
            throw Failure(description: "posix_spawn \(executable) failed: errno \(result)")
        }
        return SpawnedChild(pid: pid, output: ends[0])
    }

    /// glibc's file actions that close every descriptor from a number on, and change directory:
    /// declared only for `_GNU_SOURCE`, which Swift's Glibc module is not built with.
    private static let closeFrom = glibcFunction("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self)
    private static let changeDirectory = glibcFunction("posix_spawn_file_actions_addchdir_np", as: ChangeDirectory.self)
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    private static func glibcFunction<Function>(_ name: String, as type: Function.Type) -> Function? {
        dlsym(nil, name).map { unsafeBitCast($0, to: type) }
    }

    /// Blocks until the child ends, and returns its exit code, or the signal that ended it.
    func waitForExit() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return -1 }
        }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : signal
    }
}
