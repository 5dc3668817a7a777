import Foundation
import HZFusionNet
import HybridZoom

/// What became of one claimed pair.
public enum PairOutcome: Sendable {
    /// Published now; the record is what the sidecar says. `afterwards`: what failed once the
    /// sidecar was in place (the latest link, archiving), which takes nothing back; a pair whose
    /// folder could not be archived is still in `work/`, and its next try archives it.
    case published(PairRecord, afterwards: [String], archived: Bool)
    /// Published by an earlier try (before a restart, or one whose archiving failed); archived now.
    case alreadyPublished(id: String)
    /// An input could not be used; the pair's folder went to quarantine.
    case quarantined(id: String, file: String, reason: String, kind: SetAsideKind, movedTo: String)
}

/// Processes a claimed pair from `work/` to a published image and an archived folder.
///
/// The sidecar is the commit point: a pair that has one is never processed again, so a crash at
/// any point leads to exactly one published image per pair after the restart.
public struct PairWorker: Sendable {
    public let config: DaemonConfig
    public let pipeline: CapturePipeline
    public let madeWith: MadeWith

    public init(config: DaemonConfig, pipeline: CapturePipeline, madeWith: MadeWith) {
        (self.config, self.pipeline, self.madeWith) = (config, pipeline, madeWith)
    }

    public func run(_ queued: ClaimedPair, completedAt: ContinuousClock.Instant) throws -> PairOutcome {
        // The manifest as it is on disk: a pair tried again counted its failures there since.
        let claimed = (try? ClaimManifest.read(inPairFolder: queued.folder)).map { ClaimedPair(manifest: $0, folder: queued.folder) } ?? queued
        let store = SpoolStore(paths: config.paths)
        let publisher = Publisher(root: config.paths.output, latestLink: config.output.latestLink)
        let manifest = claimed.manifest
        if publisher.isPublished(id: manifest.id, day: manifest.day) {
            publisher.pointLatest(id: manifest.id, day: manifest.day)
            try store.archive(claimed, keepInputs: config.keepInputs)
            return .alreadyPublished(id: manifest.id)
        }
        guard let wide = manifest.input(.wide), let tele = manifest.input(.tele) else {
            return try quarantine(claimed, file: claimed.folder, reason: "manifest lacks a W or a T input", .brokenClaim, store)
        }
        if let wideSize = wide.size, let teleSize = tele.size,
            case let outputs = config.outputsBesideTheSource(tele: teleSize),
            case let made = config.makesSourceAsRead(wide: wideSize, tele: teleSize, largestHeld: pipeline.settings.largestHeldSource),
            case let network = (pipeline.fusion as? NetworkFusion)?.network.workerMemory(for: teleSize, makesSource: made),
            case let needed = MemoryEstimate.bytes(wide: wideSize, tele: teleSize, outputs: outputs, sourceMadeAsRead: made, network: network),
            needed > config.intake.memoryBudget
        {
            let error = OverMemoryBudget(wide: wideSize, tele: teleSize, outputs: outputs, needed: needed, budget: config.intake.memoryBudget)
            return try quarantine(claimed, file: wide.name, reason: "\(error)", .overMemoryBudget, store)
        }
        if let (input, reason) = changedInput(claimed) {
            return try quarantine(claimed, file: input.name, reason: reason, .changedAfterIntake, store)
        }
        let crashes = manifest.attempts, limit = config.intake.maxCrashesPerPair
        guard crashes < limit else {
            let reason = "the daemon died \(crashes) times while this pair was in hand (killed, crashed or out of memory; limit \(limit))"
            return try quarantine(claimed, file: claimed.folder, reason: reason, .poisonPair, store)
        }
        let attempt = try store.updateManifest(of: claimed) { $0.attempts = crashes + 1 }
        do {
            return try process(attempt, wide: wide, tele: tele, completedAt: completedAt, store, publisher)
        } catch {
            _ = try? store.updateManifest(of: attempt) {  // an error is not a crash
                $0.attempts = crashes
                $0.failures += 1
            }
            throw error
        }
    }

    private func process(
        _ claimed: ClaimedPair, wide: InputRecord, tele: InputRecord, completedAt: ContinuousClock.Instant,
        _ store: SpoolStore, _ publisher: Publisher
    ) throws -> PairOutcome {
        let processed: EncodedCapture
        do {
            processed = try CaptureFiles.process(
                wide: try readBytes(claimed.path(of: wide)), tele: try readBytes(claimed.path(of: tele)),
                pipeline: pipeline, config: config)
        } catch let error as InputError {
            let input = error.role == .wide ? wide : tele
            return try quarantine(claimed, file: input.name, reason: "\(input.name): \(error)", .brokenFrame, store)
        }
        // Written to while it was read: what was fused may be neither the old frame nor the new.
        if let (input, reason) = changedInput(claimed) {
            return try quarantine(claimed, file: input.name, reason: reason, .changedAfterIntake, store)
        }
        let (record, files) = publication(claimed, processed, completedAt: completedAt, store)
        let afterwards = try publisher.publish(files, record: record, day: claimed.manifest.day)
        do {
            try store.archive(claimed, keepInputs: config.keepInputs)
        } catch {
            return .published(record, afterwards: afterwards + ["cannot archive its inputs: \(error)"], archived: false)
        }
        return .published(record, afterwards: afterwards, archived: true)
    }

    /// The first input whose file is not as intake read it, and how it differs.
    private func changedInput(_ claimed: ClaimedPair) -> (InputRecord, String)? {
        for input in claimed.manifest.inputs {
            guard let taken = input.file else { continue }
            let now = FileState(path: claimed.path(of: input))
            if now != taken {
                let state = now.map(String.init(describing:)) ?? "gone"
                return (input, "\(input.name) was written to after it was taken in: \(taken) then, \(state) now")
            }
        }
        return nil
    }

    private func quarantine(
        _ claimed: ClaimedPair, file: String, reason: String, _ kind: SetAsideKind, _ store: SpoolStore
    ) throws -> PairOutcome {
        let movedTo = try store.setAside(claimed.folder, as: claimed.manifest.id, in: config.paths.quarantine, reason: reason)
        return .quarantined(id: claimed.manifest.id, file: file, reason: reason, kind: kind, movedTo: movedTo)
    }

    /// The sidecar and its files, the inputs recorded where they will be archived.
    private func publication(
        _ claimed: ClaimedPair, _ processed: EncodedCapture, completedAt: ContinuousClock.Instant,
        _ store: SpoolStore
    ) -> (PairRecord, [Publisher.File]) {
        let manifest = claimed.manifest
        let archive = config.keepInputs ? store.archiveFolder(id: manifest.id, day: manifest.day) : nil
        return Publisher.publication(
            manifest, inputs: manifest.inputs(archivedIn: archive), processed, latencyMs: (ContinuousClock.now - completedAt).milliseconds,
            madeWith: madeWith)
    }
}
