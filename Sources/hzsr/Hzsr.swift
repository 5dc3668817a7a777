import ArgumentParser
import HZSpool

@main
struct Hzsr: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "hzsr: hybrid zoom from a wide + tele camera rig.", version: hzsrVersion,
        subcommands: [
            FuseCommand.self, SimulateCommand.self, EvalCommand.self, FlowCommand.self, FusionInputsCommand.self, GateCommand.self, BenchCommand.self,
            MapsCommand.self, TuneCommand.self, EvalRealCommand.self, CalibrateCommand.self, StatusCommand.self, ReprocessCommand.self,
        ])
}
