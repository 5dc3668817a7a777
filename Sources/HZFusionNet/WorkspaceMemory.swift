import Glibc
import Synchronization

/// Where tile workspaces live: mappings of their own, outside the heap, kept from one `fuse`
/// call to the next.
///
/// In the heap, a worker's workspace (95 MB with 2048-pixel tiles before the full-detail level
/// ran in bands, 38 MB now) found no hole among the freed 48 MB planes, so each capture put both
/// workers' on top of the heap: the daemon held 145 MB more than it ever used at once. Kept
/// here, a workspace is faulted in once, by the first capture, and there are never more than
/// the workers that ran at once: `fuse` maps a region only when every kept one is in use or too
/// small.
public final class WorkspaceMemory: Sendable {
    public static let shared = WorkspaceMemory()

    /// Free regions, as (address, bytes); addresses as integers to be `Sendable`.
    private let free = Mutex<[(address: Int, bytes: Int)]>([])
    private static let hugePage = 2 << 20

    /// A region of at least `bytes`, on a huge-page boundary: the smallest free one that is
    /// large enough, else a new mapping (free ones too small for it are unmapped: the windows
    /// have grown).
    func take(bytes: Int) -> (address: UnsafeMutableRawPointer, bytes: Int) {
        let kept = free.withLock { free -> (address: Int, bytes: Int)? in
            let fitting = free.indices.filter { free[$0].bytes >= bytes }
            if let best = fitting.min(by: { free[$0].bytes < free[$1].bytes }) { return free.remove(at: best) }
            Self.unmapAll(&free)
            return nil
        }
        if let kept { return (UnsafeMutableRawPointer(bitPattern: kept.address)!, kept.bytes) }
        return (Self.map(bytes), bytes)
    }

    /// Takes back a region from `take`, for the next `fuse`.
    func give(_ address: UnsafeMutableRawPointer, bytes: Int) {
        free.withLock { $0.append((Int(bitPattern: address), bytes)) }
    }

    /// Unmaps the regions no `fuse` is using: for a daemon gone idle.
    public func release() {
        free.withLock { Self.unmapAll(&$0) }
    }

    private static func unmapAll(_ regions: inout [(address: Int, bytes: Int)]) {
        for region in regions { munmap(UnsafeMutableRawPointer(bitPattern: region.address), region.bytes) }
        regions.removeAll()
    }

    /// `bytes` of fresh anonymous memory starting on a huge-page boundary, advised to use huge
    /// pages where the kernel allows (touching a 4 KB page at a time cost a fifth of a 12 MP run
    /// in page faults). Running out of address space is as fatal here as in any allocation.
    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer {
        let length = bytes + hugePage
        guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else { fatalError("cannot map \(bytes) bytes for a tile workspace: \(String(cString: strerror(errno)))") }
        let start = (Int(bitPattern: mapped) + hugePage - 1) / hugePage * hugePage
        let head = start - Int(bitPattern: mapped)
        if head > 0 { munmap(mapped, head) }
        munmap(UnsafeMutableRawPointer(bitPattern: start + bytes), length - head - bytes)
        let region = UnsafeMutableRawPointer(bitPattern: start)!
        madvise(region, bytes, MADV_HUGEPAGE)  // only advice: without huge pages, small pages serve
        return region
    }
}
