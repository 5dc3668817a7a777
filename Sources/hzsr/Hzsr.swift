import ArgumentParser
import Foundation
import HZSpool

@main
struct Hzsr: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "hzsr: hybrid zoom from a wide + tele camera rig.", version: hzsrVersion,
        subcommands: [
            FuseCommand.self, SimulateCommand.self, EvalCommand.self, FlowCommand.self, FusionInputsCommand.self, GateCommand.self, BenchCommand.self,
            MapsCommand.self, TuneCommand.self, EvalRealCommand.self, CalibrateCommand.self, StatusCommand.self, ReprocessCommand.self,
        ])

    /// The pixel code's first AVX2 instruction would kill the process with SIGILL and no word of
    /// why: a CPU without it is named first.
    static func main() {
        if let problem = VectorInstructions.missing() {
            FileHandle.standardError.write(Data("hzsr: \(problem)\n".utf8))
            Foundation.exit(1)
        }
        main(nil)
    }
}
