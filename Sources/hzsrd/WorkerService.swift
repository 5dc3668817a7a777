import Foundation
import HZSpool
import Logging
import ServiceLifecycle

/// Processes claimed pairs one at a time (each pair already uses both cores). On SIGTERM it
/// finishes the pair in hand and stops; the rest stay in `work/` for the next start.
struct WorkerService: Service {
    let state: DaemonState
    let queue: AsyncStream<WorkItem>
    let logger: Logger

    func run() async {
        for await item in queue.cancelOnGracefulShutdown() {
            let worker = PairWorker(config: state.config)
            state.update { $0.workerBusySince = .now }
            let outcome = await onWorkerThread { Result { try worker.run(item.claimed, completedAt: item.completedAt) } }
            state.update {
                $0.queued -= 1
                $0.workerBusySince = nil
            }
            report(outcome, id: item.claimed.manifest.id)
        }
    }

    /// Keeps seconds of image work off Swift's cooperative threads, which the other services need.
    private func onWorkerThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }

    private func report(_ outcome: Result<PairOutcome, any Error>, id: String) {
        switch outcome {
        case .success(.published(let record)):
            state.update {
                $0.published += 1
                $0.lastLatencyMs = record.latencyMs
            }
            let event: JournalEvent = record.decision == "fused" ? .pairFused : .fusionSkipped
            logger.record(event, "\(record.pair): \(record.reason), \(Int(record.timingsMs.total)) ms", fields(record))
        case .success(.alreadyPublished(let id)):
            logger.record(.rescan, "\(id) was published before a restart; archived now", ["HZ_PAIR": .string(id)])
        case .success(.quarantined(let id, let file, let reason, let movedTo)):
            state.update { $0.quarantined += 1 }
            logger.record(.inputQuarantined, "\(id) quarantined: \(reason)", level: .warning, [
                "HZ_PAIR": .string(id), "HZ_FILE": .string(file), "HZ_REASON": .string(reason), "HZ_MOVED_TO": .string(movedTo),
            ])
        case .failure(let error):
            state.update { $0.errors += 1 }
            logger.record(.error, "\(id) failed: \(error); it stays in work/ and is retried at the next start", level: .error,
                          ["HZ_PAIR": .string(id), "HZ_REASON": .string("\(error)")])
        }
    }

    private func fields(_ record: PairRecord) -> [String: Logger.MetadataValue] {
        let wide = record.inputs.first { $0.role == .wide }, tele = record.inputs.first { $0.role == .tele }
        let gate = record.gate
        var fields: [String: Logger.MetadataValue] = [
            "HZ_PAIR": .string(record.pair), "HZ_DECISION": .string(record.decision), "HZ_REASON": .string(record.reason),
            "HZ_W": .string(wide?.name ?? ""), "HZ_T": .string(tele?.name ?? ""),
            "HZ_DT_MS": .string(String(format: "%.1f", record.timeDifferenceMs)),
            "HZ_MS": .string(String(format: "%.0f", record.timingsMs.total)),
            "HZ_DECODE_MS": .string(String(format: "%.0f", record.timingsMs["decode"])),
            "HZ_ENCODE_MS": .string(String(format: "%.0f", record.timingsMs["encode"])),
            "HZ_LATENCY_MS": .string(String(format: "%.0f", record.latencyMs)),
            "HZ_OUTPUT": .string(record.image), "HZ_SIZE": .string("\(record.size[0])x\(record.size[1])"),
            "HZ_ZOOM": .string(String(format: "%.2f", record.zoom)),
            "HZ_LUMA_W": .string(String(format: "%.3f", gate.meanLumaWide)),
            "HZ_LUMA_T": .string(String(format: "%.3f", gate.meanLumaTele)),
            "HZ_NOISE_W": .string(String(format: "%.4f", gate.noiseWide)),
            "HZ_NOISE_T": .string(String(format: "%.4f", gate.noiseTele)),
            "HZ_COVERAGE": .string(String(format: "%.3f", record.coverage)),
        ]
        if let warnings = record.warnings { fields["HZ_WARNINGS"] = .array(warnings.map { .string($0) }) }
        if !record.otherOutputs.isEmpty { fields["HZ_OTHER_OUTPUTS"] = .array(record.otherOutputs.map { .string($0.image) }) }
        if let ev100 = gate.ev100Wide { fields["HZ_EV100_W"] = .string(String(format: "%.1f", ev100)) }
        if let ev100 = gate.ev100Tele { fields["HZ_EV100_T"] = .string(String(format: "%.1f", ev100)) }
        for stage in ["align", "fuse", "blend"] where record.timingsMs.laps.contains(where: { $0.stage == stage }) {
            fields["HZ_\(stage.uppercased())_MS"] = .string(String(format: "%.0f", record.timingsMs[stage]))
        }
        if let alignment = record.alignment {
            fields["HZ_ALIGN_DX"] = .string(String(format: "%.2f", alignment.translation[0]))
            fields["HZ_ALIGN_DY"] = .string(String(format: "%.2f", alignment.translation[1]))
            fields["HZ_ALIGN_INLIERS"] = .stringConvertible(alignment.inliers)
            fields["HZ_ALIGN_RELIABLE"] = .string(alignment.reliable ? "yes" : "no")
        }
        return fields
    }
}
