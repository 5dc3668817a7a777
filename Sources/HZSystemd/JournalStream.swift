import Glibc

/// Whether stderr is already connected to the journal: systemd says so in `JOURNAL_STREAM`
/// (`<device>:<inode>` of the stream it gave the service) for a service whose output goes there.
/// A message for the person starting a program then needs no second copy on stderr.
public func standardErrorIsJournal() -> Bool {
    guard let stream = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
    var info = stat()
    guard fstat(STDERR_FILENO, &info) == 0 else { return false }
    return stream == "\(info.st_dev):\(info.st_ino)"
}
