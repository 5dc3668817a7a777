import ArgumentParser
import Foundation
import HZHarness
import HZSpool
import HybridZoom

/// `hzsr fusion-inputs SET`: what the fusion stage reads, for every capture of a set, made by the
/// pipeline's own alignment: the training data of the network (`Training/`), whose flow errors
/// are then exactly the ones it meets at inference.
struct FusionInputsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fusion-inputs",
        abstract: "Write each capture's fusion inputs (Y_src, warped T, M_occ) as SET/NNNN/fusion_inputs.npy.",
        discussion: "The array is float32 (H, W, 3) on the target's grid: Y_src, Ỹ_ref, M_occ.")

    @Argument(help: "A capture set (hzsr simulate --set).") var set: String

    func run() throws {
        let manifest = try CaptureSet.readManifest(set)
        // Captures are independent: one per core, each of whose stages also splits its rows.
        _ = try manifest.captures.concurrentMap { capture in
            let folder = "\(set)/\(capture)"
            let aligned = try AlignedCapture(folder: folder)
            let inputs = FusionInputs(source: aligned.source.y, alignment: aligned.alignment)
            try NumpyFile.write([inputs.source.plane, inputs.reference, inputs.occlusion.plane], to: "\(folder)/fusion_inputs.npy")
            FileHandle.standardError.write(Data("\(capture) ".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
