import Histogram

/// Latencies of one kind of call, in microseconds, in an HdrHistogram (3 significant digits up
/// to an hour): constant memory and cost per sample, exact enough for p99 and max.
package struct LatencyHistogram: Sendable {
    private var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

    package init() {}

    package var count: Int { Int(histogram.totalCount) }

    package mutating func record(_ duration: Duration) {
        let micros = max(0, duration.seconds * 1e6)
        histogram.record(min(histogram.highestTrackableValue, UInt64(micros.rounded())))
    }

    package mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
    }

    /// p50, p90, p99 and max in milliseconds; zeros when nothing was recorded.
    package var summary: LatencySummary {
        guard histogram.totalCount > 0 else { return LatencySummary(p50: 0, p90: 0, p99: 0, max: 0) }
        func ms(_ micros: UInt64) -> Double { (Double(micros) / 1000 * 1000).rounded() / 1000 }
        return LatencySummary(
            p50: ms(histogram.valueAtPercentile(50)), p90: ms(histogram.valueAtPercentile(90)),
            p99: ms(histogram.valueAtPercentile(99)), max: ms(histogram.max))
    }
}

/// Percentiles of a latency histogram, in milliseconds.
package struct LatencySummary: Codable, Sendable, Equatable {
    package let p50: Double
    package let p90: Double
    package let p99: Double
    package let max: Double

    package init(p50: Double, p90: Double, p99: Double, max: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
    }
}
