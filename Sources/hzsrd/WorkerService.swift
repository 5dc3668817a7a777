import CFrameMemory
import Foundation
import HZFusionNet
import HZSpool
import HybridZoom
import Logging
import ServiceLifecycle

/// Processes claimed pairs one at a time (each pair already uses both cores). On SIGTERM it
/// finishes the pair in hand and stops; the rest stay in `work/` for the next start. A pair that
/// fails (a full disk, an I/O error) goes back to the queue after a delay that doubles with
/// each failure, from 1 s to 64 s: it is published once the fault clears, without a restart,
/// and stays in `work/` for the next start meanwhile. The count of failures is in its manifest,
/// so after a restart the pair waits the delay its count calls for before its next try.
/// Freed frames and the network's tile workspaces stay in the process for the next pair; once
/// the queue has been empty for `idleBeforeRelease`, the worker gives them back to the system.
struct WorkerService: Service {
    let state: DaemonState
    let queue: AsyncStream<WorkItem>
    let requeue: AsyncStream<WorkItem>.Continuation
    let logger: Logger
    static let idleBeforeRelease: Duration = .seconds(10)

    func run() async {
        var failures: [String: Int] = [:]
        var release: Task<Void, Never>?
        for await item in queue.cancelOnGracefulShutdown() {
            release?.cancel()
            let id = item.claimed.manifest.id, failedBefore = item.claimed.manifest.failures
            if failures[id] == nil, failedBefore > 0 {  // resumed after a restart
                failures[id] = failedBefore
                state.update { $0.queued -= 1 }
                let wait = Self.secondsToWait(afterFailures: failedBefore)
                retry(item, after: .seconds(wait))
                logger.record(.rescan, "\(id) failed \(failedBefore) times before the restart; tried again in \(wait) s", [.pair: .string(id)])
                continue
            }
            let loaded = state.loaded
            let worker = PairWorker(config: loaded.config, pipeline: loaded.pipeline, madeWith: loaded.madeWith)
            state.update { $0.workerBusySince = .now }
            // A pair of frames too large for `Y_src` to be held (T above `largestHeldSource`) takes
            // its large blocks from mappings of their own.
            let large = (item.claimed.manifest.input(.tele)?.size?.pixelCount ?? 0) > loaded.pipeline.settings.largestHeldSource
            let outcome = await onWorkerThread {
                hz_map_large_blocks(large)
                defer { hz_map_large_blocks(false) }
                return Result { try worker.run(item.claimed, completedAt: item.completedAt) }
            }
            state.update {
                $0.queued -= 1
                $0.workerBusySince = nil
            }
            switch outcome {
            case .failure, .success(.published(_, _, archived: false)):  // the next try archives it
                failures[id, default: 0] += 1
                retry(item, after: .seconds(Self.secondsToWait(afterFailures: failures[id]!)))
            default:
                failures[id] = nil
            }
            report(outcome, id: id, retry: failures[id].map { "\(Self.secondsToWait(afterFailures: $0)) s" })
            release = releaseMemory(after: Self.idleBeforeRelease)  // cancelled by the next pair
        }
    }

    private func releaseMemory(after delay: Duration) -> Task<Void, Never> {
        Task {
            guard (try? await Task.sleep(for: delay)) != nil else { return }
            hz_release_freed_frames()
            WorkspaceMemory.shared.release()
        }
    }

    /// 1 s after the first failure, doubling up to 64 s.
    static func secondsToWait(afterFailures count: Int) -> Int { 1 << min(count - 1, 6) }

    private func retry(_ item: WorkItem, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            state.update { $0.queued += 1 }
            requeue.yield(item)
        }
    }

    /// Keeps seconds of image work off Swift's cooperative threads, which the other services need.
    private func onWorkerThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }

    private func report(_ outcome: Result<PairOutcome, any Error>, id: String, retry: String?) {
        switch outcome {
        case .success(.published(let record, let afterwards, let archived)):
            state.published(record)
            let event: JournalEvent = record.decision == .fused ? .pairFused : .fusionSkipped
            logger.record(event, "\(record.pair): \(record.reason), \(Int(record.timingsMs.total)) ms", fields(record))
            for problem in afterwards {
                let next = archived ? "" : "; it stays in work/ and is archived in \(retry ?? "a moment")"
                logger.record(
                    .error, "\(record.pair) published, then: \(problem)\(next)", level: .warning,
                    [.pair: .string(record.pair), .reason: .string(problem)])
            }
        case .success(.alreadyPublished(let id)):
            logger.record(.rescan, "\(id) was published earlier; archived now", [.pair: .string(id)])
        case .success(.quarantined(let id, let file, let reason, let kind, let movedTo)):
            state.setAside(kind)
            logger.record(
                .inputQuarantined, "\(id) quarantined: \(reason)", level: .warning,
                [
                    .pair: .string(id), .file: .string(file), .reason: .string(reason), .movedTo: .string(movedTo),
                ])
        case .failure(let error):
            state.failed()
            logger.record(
                .error, "\(id) failed: \(error); it stays in work/ and is tried again in \(retry ?? "a moment")", level: .error,
                [.pair: .string(id), .reason: .string("\(error)")])
        }
    }

    private func fields(_ record: PairRecord) -> [JournalField: Logger.MetadataValue] {
        func text(_ format: String, _ value: Double) -> Logger.MetadataValue { .string(String(format: format, value)) }
        let wide = record.inputs.first { $0.role == .wide }, tele = record.inputs.first { $0.role == .tele }
        let gate = record.gate
        var fields: [JournalField: Logger.MetadataValue] = [
            .pair: .string(record.pair), .decision: .string(record.decision.description), .reason: .string(record.reason),
            .wide: .string(wide?.name ?? ""), .tele: .string(tele?.name ?? ""),
            .timeDifferenceMs: text("%.1f", record.timeDifferenceMs), .totalMs: text("%.0f", record.timingsMs.total),
            .latencyMs: text("%.0f", record.latencyMs),
            .output: .string(record.image), .size: .string("\(record.size[0])x\(record.size[1])"), .zoom: text("%.2f", record.zoom),
            .lumaWide: text("%.3f", gate.meanLumaWide), .lumaTele: text("%.3f", gate.meanLumaTele),
            .noiseWide: text("%.4f", gate.noiseWide), .noiseTele: text("%.4f", gate.noiseTele),
            .coverage: text("%.3f", record.coverage),
        ]
        for stage in Stage.allCases where stage == .decode || stage == .encode || record.timingsMs.ran(stage) {
            if let field = JournalField.milliseconds(of: stage) { fields[field] = text("%.0f", record.timingsMs[stage]) }
        }
        if let warnings = record.warnings { fields[.warnings] = .array(warnings.map { .string($0) }) }
        if !record.otherOutputs.isEmpty { fields[.otherOutputs] = .array(record.otherOutputs.map { .string($0.image) }) }
        if let ev100 = gate.ev100Wide { fields[.ev100Wide] = text("%.1f", ev100) }
        if let ev100 = gate.ev100Tele { fields[.ev100Tele] = text("%.1f", ev100) }
        if let alignment = record.alignment {
            fields[.alignDX] = text("%.2f", alignment.translation[0])
            fields[.alignDY] = text("%.2f", alignment.translation[1])
            fields[.alignInliers] = .stringConvertible(alignment.inliers)
            fields[.alignModel] = .string(alignment.model.rawValue)
            fields[.alignScale] = text("%.4f", alignment.scale)
            fields[.alignRotation] = text("%.3f", alignment.rotation)
            fields[.alignReliable] = .string(alignment.reliable ? "yes" : "no")
            if let correlation = alignment.correlation { fields[.alignCorrelation] = text("%.3f", correlation) }
        }
        return fields
    }
}
