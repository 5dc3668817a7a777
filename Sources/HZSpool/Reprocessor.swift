import Foundation
import HybridZoom

/// Makes an archive's pairs again with the daemon's pipeline (after a model update, say), into an
/// output folder laid out as the daemon's: `<out>/<day>/<pair>.jpg` and `.json`.
///
/// Shards split the pairs by a stable hash of their ids, the same on every machine, so that N
/// processes started with `0/N` … `N-1/N` (a Slurm array, a Kubernetes Indexed Job) make each
/// pair exactly once between them. A pair whose sidecar in the output says it was made with this
/// version, model and config is done and skipped, so a rerun finishes what a killed one left.
public struct Reprocessor: Sendable {
    /// One pair of an archive: `archive/<day>/<pair>/` with its manifest and `W/`, `T/` inputs.
    public struct ArchivedPair: Sendable {
        public var folder: String
        public var manifest: ClaimManifest
    }

    public enum Outcome: Sendable {
        /// Made now; `afterwards`: what failed once its sidecar was in place (see `Publisher`).
        case made(PairRecord, afterwards: [String])
        case done
    }

    public let config: DaemonConfig
    public let pipeline: CapturePipeline
    public let madeWith: MadeWith
    public let publisher: Publisher

    public init(config: DaemonConfig, fusion: FusionStage, configFile: String?, output: String) throws {
        self.config = config
        pipeline = config.pipeline(fusion)
        madeWith = try MadeWith(fusion: fusion, configFile: configFile)
        publisher = Publisher(root: output, latestLink: false)
    }

    /// The pairs of `archive`, sorted by id, and the entries that are not readable pairs, each
    /// with its problem. An archive that cannot be listed (a mistyped path) is an error.
    public static func pairs(in archive: String) throws -> (pairs: [ArchivedPair], problems: [(folder: String, problem: String)]) {
        var pairs: [ArchivedPair] = [], problems: [(String, String)] = []
        let manager = FileManager.default
        let days: [String]
        do { days = try manager.contentsOfDirectory(atPath: archive) } catch {
            throw SpoolError("\(archive): cannot list it: \(manager.fileExists(atPath: archive) ? "not a readable folder" : "no such folder")")
        }
        for day in days.sorted() where !day.hasPrefix(".") {
            guard let ids = try? manager.contentsOfDirectory(atPath: "\(archive)/\(day)") else {
                problems.append(("\(archive)/\(day)", "not a day's folder of archived pairs"))
                continue
            }
            for id in ids.sorted() where !id.hasPrefix(".") {
                let folder = "\(archive)/\(day)/\(id)"
                guard manager.fileExists(atPath: "\(folder)/\(SpoolStore.manifestName)") else {
                    problems.append((folder, "not an archived pair: it has no \(SpoolStore.manifestName)"))
                    continue
                }
                do {
                    pairs.append(ArchivedPair(folder: folder, manifest: try ClaimManifest.read(inPairFolder: folder)))
                } catch {
                    problems.append((folder, "its \(SpoolStore.manifestName) cannot be read: \(error)"))
                }
            }
        }
        return (pairs.sorted { $0.manifest.id < $1.manifest.id }, problems)
    }

    /// Shard `index` of `count` (0-based): the pairs whose id hashes to it.
    public static func shard(_ pairs: [ArchivedPair], index: Int, of count: Int) -> [ArchivedPair] {
        pairs.filter { Int(stableHash($0.manifest.id.utf8) % UInt64(count)) == index }
    }

    /// Makes one pair, unless its output was made with the same version, model and config.
    /// A broken input throws an error naming its file; nothing is written for the pair then.
    public func run(_ pair: ArchivedPair) throws -> Outcome {
        let manifest = pair.manifest
        let sidecar = publisher.recordPath(id: manifest.id, day: manifest.day)
        if FileManager.default.fileExists(atPath: sidecar), (try? Publisher.readRecord(at: sidecar))?.madeWith == madeWith {
            return .done
        }
        guard let wide = manifest.input(.wide), let tele = manifest.input(.tele) else {
            throw SpoolError("\(pair.folder): the manifest lacks a W or a T input")
        }
        let start = ContinuousClock.now
        let paths = (wide: "\(pair.folder)/\(wide.pathInPairFolder)", tele: "\(pair.folder)/\(tele.pathInPairFolder)")
        let processed: EncodedCapture
        do {
            processed = try CaptureFiles.process(wide: try readBytes(paths.wide), tele: try readBytes(paths.tele), pipeline: pipeline, config: config)
        } catch let error as InputError {
            throw SpoolError("\(error.role == .wide ? paths.wide : paths.tele): \(error)")
        }
        let (record, files) = Publisher.publication(
            manifest, inputs: manifest.inputs(archivedIn: pair.folder), processed, latencyMs: (ContinuousClock.now - start).milliseconds,
            madeWith: madeWith)
        return .made(record, afterwards: try publisher.publish(files, record: record, day: manifest.day))
    }
}
