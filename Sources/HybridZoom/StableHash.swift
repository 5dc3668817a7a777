/// FNV-1a over 64 bits: the same on every run and machine (unlike `Hasher`), for names made
/// from inputs and for telling model files apart. Not for anything an adversary could choose.
public func stableHash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}
