import Glibc

/// Notices a daemon that burns CPU with nothing to do (a loop that waits without blocking): over
/// each stretch of at least `window` in which no pair was queued or in hand, the process's CPU
/// time must stay below `limit` of the stretch's length. When it does not, the notifier withholds
/// the watchdog ping, and systemd restarts the daemon.
struct IdleCPUGuard {
    static let window = Duration.seconds(30)
    static let limit = 0.2

    private var stretchStart: (wall: ContinuousClock.Instant, cpu: Duration)?
    /// The CPU share of the last idle stretch, when it was above the limit; nil once work comes.
    private(set) var excess: Double?

    /// Called at each status tick, with whether a pair is queued or in hand.
    mutating func update(idle: Bool, now: ContinuousClock.Instant) {
        guard idle else {
            (stretchStart, excess) = (nil, nil)
            return
        }
        let cpu = Self.processCPUTime()
        guard let start = stretchStart else {
            stretchStart = (now, cpu)
            return
        }
        let elapsed = now - start.wall
        guard elapsed >= Self.window else { return }
        stretchStart = (now, cpu)
        let share = (cpu - start.cpu) / elapsed
        excess = share > Self.limit ? share : nil
    }

    /// User and system time of every thread so far.
    private static func processCPUTime() -> Duration {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func duration(_ time: timeval) -> Duration { .seconds(time.tv_sec) + .microseconds(time.tv_usec) }
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }
}
