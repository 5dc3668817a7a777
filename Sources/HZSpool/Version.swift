/// The version of hzsr and hzsrd, as `--version`, the metrics' build info and the package say.
public let hzsrVersion = "0.1.0"
