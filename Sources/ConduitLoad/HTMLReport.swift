import Foundation
import Histogram

/// The `--html` report: one self-contained page (inline SVG and CSS, nothing fetched)
/// with the latency percentile spectrum on HdrHistogram's log-scaled axis, requests/s,
/// p99 and errors over time (one line per instance after a merge), and the run's settings.
public enum HTMLReport {
    /// The page for `result`.
    public static func page(_ result: LoadResult) -> String {
        let stats = result.stats
        var spectrum = [ChartSeries(name: result.rate == nil ? "latency" : "latency (corrected)", color: palette[0],
                                    points: spectrumPoints(stats.latency))]
        if result.rate != nil {
            spectrum.append(ChartSeries(name: "service time (uncorrected)", color: palette[1], points: spectrumPoints(stats.serviceTime)))
        }
        let parts = result.instances ?? []
        func overTime(_ value: (IntervalStats) -> Double) -> [ChartSeries] {
            var lines = [ChartSeries(name: parts.isEmpty ? "all" : "merged", color: palette[0],
                                     points: result.series.map { (Double($0.second), value($0)) })]
            for (index, part) in parts.enumerated() {
                lines.append(ChartSeries(name: part.label, color: palette[(index + 1) % palette.count],
                                         points: part.series.map { (Double($0.second), value($0)) }))
            }
            return lines
        }
        let charts = [
            Chart(title: "Latency by percentile", xLabel: "percentile", yLabel: "ms", series: spectrum,
                  xTicks: [(0, "0%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "99.99%"), (5, "99.999%"), (6, "99.9999%")]),
            Chart(title: "Requests per second", xLabel: "second", yLabel: "requests/s",
                  series: overTime { Double($0.requests) }, xTicks: nil, minimumTop: 1),
            Chart(title: "p99 latency per second", xLabel: "second", yLabel: "ms",
                  series: overTime { Double($0.p99Nanoseconds) / 1e6 }, xTicks: nil),
            Chart(title: "Errors per second", xLabel: "second", yLabel: "errors",
                  series: overTime { Double($0.errors) }, xTicks: nil, minimumTop: 1),
        ]
        let settings: [(String, String)] = [
            ("target", (result.embedded ? "embedded server at " : "") + result.target),
            ("workload", "\(result.workload.rawValue), compare \(result.compare.rawValue)"),
            ("mode", result.rate.map { "open loop, \(LoadReport.grouped(Int($0))) requests/s" } ?? "closed loop"),
            ("in flight per connection", "\(result.pipeline)"),
            ("connections", "\(LoadReport.grouped(stats.connectionsUp)) of \(LoadReport.grouped(result.connections)) established"),
            ("backend", result.backend),
            ("duration", String(format: "%.2f s", result.elapsedSeconds)),
            ("requests", "\(LoadReport.grouped(stats.requests)) correct (\(LoadReport.grouped(Int(result.requestsPerSecond.rounded())))/s)"),
            ("thresholds", result.thresholds.map { outcomes in
                outcomes.map { "\($0.held ? "held" : "CROSSED") \($0.threshold) (\($0.shown))" }.joined(separator: "; ")
            } ?? "none"),
            ("errors", stats.errors.isEmpty ? "0" : stats.errors.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")),
            ("started", (result.startedAt.map(WallClock.format) ?? "-")
                + (result.instances == nil ? result.startOffset.map { " (\(LoadReport.signedDuration($0)) from --start-at)" } ?? "" : "")),
            ("instances", parts.isEmpty ? "1" : "\(parts.count) merged: " + parts.map { part in
                part.label + (part.startOffset.map { " (started \(LoadReport.signedDuration($0)))" } ?? "")
            }.joined(separator: ", ")),
        ]
        let percentileRows = LoadReport.percentiles.map { label, value in
            (label, stats.latency.totalCount > 0 ? LoadReport.duration(stats.latency.valueAtPercentile(value)) : "-")
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>conduit load: \(escape(result.target))</title>
            <style>
            body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
            h1 { font-size: 20px; } h2 { font-size: 15px; margin: 18px 0 4px; }
            table { border-collapse: collapse; } td { padding: 2px 12px 2px 0; vertical-align: top; }
            table.settings td:first-child { color: #666; } .charts { display: flex; flex-wrap: wrap; gap: 8px 24px; }
            svg text { font: 11px system-ui, sans-serif; fill: #444; }
            </style></head><body>
            <h1>conduit load: \(escape(result.target))</h1>
            <table class="settings">\(settings.map { "<tr><td>\(escape($0.0))</td><td>\(escape($0.1))</td></tr>" }.joined())</table>
            <h2>Latency percentiles</h2>
            <table><tr>\(percentileRows.map { "<td>\($0.0) \(escape($0.1))</td>" }.joined())</tr></table>
            <div class="charts">\(charts.map(\.svg).joined(separator: "\n"))</div>
            </body></html>

            """
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The percentile spectrum as HdrHistogram's plotter draws it: x is
    /// log10(1 / (1 - percentile)), so 90 %, 99 %, 99.9 % … are evenly spaced; y in ms.
    static func spectrumPoints(_ histogram: Histogram<UInt64>) -> [(Double, Double)] {
        guard histogram.totalCount > 0 else { return [] }
        return histogram.percentiles(ticksPerHalfDistance: 5).map { step in
            let fraction = min(step.percentileLevelIteratedTo / 100, 0.999_999)
            return (log10(1 / (1 - fraction)), Double(step.value) / 1e6)
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// One line of a chart.
struct ChartSeries {
    let name: String
    let color: String
    let points: [(Double, Double)]
}

/// A line chart as inline SVG: axes from zero to the largest value, ticks, a legend.
struct Chart {
    let title: String
    let xLabel: String
    let yLabel: String
    let series: [ChartSeries]
    /// Fixed x ticks (value, label); nil: about six evenly spaced ones.
    let xTicks: [(Double, String)]?
    /// The y axis goes at least this high (1 for counts: no fractions of an error).
    var minimumTop = 1e-3

    static let width = 560.0, height = 280.0
    static let left = 64.0, right = 32.0, top = 28.0, bottom = 40.0

    var svg: String {
        let all = series.flatMap(\.points)
        let xMax = max(xTicks?.last?.0 ?? 0, all.map(\.0).max() ?? 1, 1)
        let yMax = Self.niceCeiling(max(all.map(\.1).max() ?? 1, minimumTop))
        let plotWidth = Self.width - Self.left - Self.right, plotHeight = Self.height - Self.top - Self.bottom
        func x(_ value: Double) -> Double { Self.left + value / xMax * plotWidth }
        func y(_ value: Double) -> Double { Self.top + plotHeight - value / yMax * plotHeight }
        var parts: [String] = []
        parts.append("<text x=\"\(Self.left)\" y=\"16\" style=\"font-weight:600\">\(HTMLReport.escape(title))</text>")
        parts.append(
            "<rect x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#fafafa\" stroke=\"#bbb\"/>")
        for step in 0...4 {
            let value = yMax * Double(step) / 4
            parts.append(
                "<line x1=\"\(Self.left)\" x2=\"\(Self.left + plotWidth)\" y1=\"\(y(value))\" y2=\"\(y(value))\" stroke=\"#e4e4e4\"/>")
            parts.append("<text x=\"\(Self.left - 6)\" y=\"\(y(value) + 4)\" text-anchor=\"end\">\(Self.label(value))</text>")
        }
        let ticks = xTicks ?? (0...5).map { step in let value = (xMax * Double(step) / 5).rounded(); return (value, Self.label(value)) }
        for (value, label) in ticks where value <= xMax {
            parts.append("<text x=\"\(x(value))\" y=\"\(Self.top + plotHeight + 16)\" text-anchor=\"middle\">\(label)</text>")
        }
        parts.append(
            "<text x=\"\(Self.left + plotWidth / 2)\" y=\"\(Self.height - 6)\" text-anchor=\"middle\">\(HTMLReport.escape(xLabel))</text>")
        parts.append(
            "<text x=\"14\" y=\"\(Self.top + plotHeight / 2)\" transform=\"rotate(-90 14 \(Self.top + plotHeight / 2))\" text-anchor=\"middle\">\(HTMLReport.escape(yLabel))</text>")
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let path = line.points.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
            parts.append("<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(path)\"/>")
            // Points marked on short series: a one-second run is a single point, no line.
            if line.points.count <= 30 {
                for point in line.points {
                    parts.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", x(point.0), y(point.1), line.color))
                }
            }
            let legendY = Self.top + 14 + Double(index) * 14
            parts.append(
                "<rect x=\"\(Self.left + 8)\" y=\"\(legendY - 8)\" width=\"10\" height=\"3\" fill=\"\(line.color)\"/><text x=\"\(Self.left + 22)\" y=\"\(legendY - 4)\">\(HTMLReport.escape(line.name))</text>")
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(Self.width))\" height=\"\(Int(Self.height))\" role=\"img\" aria-label=\"\(HTMLReport.escape(title))\">"
            + parts.joined() + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, (log10(value)).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * power >= value { return factor * power }
        return 10 * power
    }

    static func label(_ value: Double) -> String {
        if value >= 1_000_000 { return String(format: "%.1fM", value / 1_000_000) }
        if value >= 10_000 { return String(format: (value / 1_000).rounded() == value / 1_000 ? "%.0fk" : "%.1fk", value / 1_000) }
        if value == value.rounded() { return String(format: "%.0f", value) }
        return String(format: value < 1 ? "%.3f" : "%.1f", value)
    }
}
