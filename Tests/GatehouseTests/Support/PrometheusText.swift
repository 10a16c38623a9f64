/// A scrape of `/metrics`, read the way Prometheus reads it: one sample per line.
struct PrometheusText {
    let text: String

    /// The value of the sample written exactly as `series` (name and labels), or `nil` when absent.
    func value(_ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// The names of every sample, for checks that a value never appears in any series.
    var seriesNames: [Substring] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: " ").first }
    }
}
