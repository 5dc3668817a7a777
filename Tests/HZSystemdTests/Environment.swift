import Glibc

/// Sets environment variables (nil unsets) for the duration of `body`, then restores the old values.
func withEnvironment<T>(_ variables: [String: String?], _ body: () throws -> T) rethrows -> T {
    let saved = variables.keys.map { name in (name, getenv(name).map { String(cString: $0) }) }
    defer {
        for (name, value) in saved { setEnvironmentVariable(name, value) }
    }
    for (name, value) in variables { setEnvironmentVariable(name, value) }
    return try body()
}

private func setEnvironmentVariable(_ name: String, _ value: String?) {
    if let value {
        setenv(name, value, 1)
    } else {
        unsetenv(name)
    }
}

/// A failed system call in test scaffolding.
struct SystemCallError: Error {
    let call: String
    let code: Int32

    init(_ call: String) {
        self.call = call
        self.code = errno
    }
}
