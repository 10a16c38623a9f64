/// Comparisons whose time does not depend on where two secrets first differ.
public enum ConstantTime {
    /// Whether `lhs` and `rhs` are the same bytes; the time depends only on their lengths.
    public static func equal(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}
