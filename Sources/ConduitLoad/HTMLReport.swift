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
            // A single run's line needs no name: its chart has no legend.
            var lines = [ChartSeries(name: parts.isEmpty ? "" : "merged", color: palette[0],
                                     points: result.series.map { (Double($0.second), value($0)) })]
            for (index, part) in parts.enumerated() {
                lines.append(ChartSeries(name: part.label, color: palette[(index + 1) % palette.count],
                                         points: part.series.map { (Double($0.second), value($0)) }))
            }
            return lines
        }
        let charts = [
            Chart(title: "Latency by percentile", xLabel: "percentile", yLabel: "ms", series: spectrum,
                  xTicks: percentileTicks(samples: stats.latency.totalCount)),
            Chart(title: "Requests per second", xLabel: "second", yLabel: "requests/s",
                  series: overTime { Double($0.requests) }, xTicks: nil, counts: true),
            Chart(title: result.rate == nil ? "p99 latency per second" : "p99 latency per second (corrected)",
                  xLabel: "second", yLabel: "ms", series: overTime { Double($0.p99Nanoseconds) / 1e6 }, xTicks: nil),
            Chart(title: "Errors per second", xLabel: "second", yLabel: "errors",
                  series: overTime { Double($0.errors) }, xTicks: nil, counts: true),
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
        let percentileRows = [summaryRow(result.rate == nil ? "latency" : "latency (corrected)", stats.latency)]
            + (result.rate == nil ? [] : [summaryRow("service time (uncorrected)", stats.serviceTime)])
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>conduit load: \(escape(result.target))</title>
            <style>
            body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
            h1 { font-size: 20px; } h2 { font-size: 15px; margin: 18px 0 4px; }
            table { border-collapse: collapse; } td { padding: 2px 12px 2px 0; vertical-align: top; }
            table.settings td:first-child, table.latency td:first-child { color: #666; }
            .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 8px 24px; }
            figure { margin: 0; } svg { width: 100%; height: auto; max-width: 720px; }
            svg text { font: 11px system-ui, sans-serif; fill: #444; }
            figcaption { font-size: 12px; color: #444; } figcaption span { margin-right: 14px; white-space: nowrap; }
            figcaption i { display: inline-block; width: 12px; height: 3px; margin: 0 5px 3px 0; }
            </style></head><body>
            <h1>conduit load: \(escape(result.target))</h1>
            <table class="settings">\(settings.map { "<tr><td>\(escape($0.0))</td><td>\(escape($0.1))</td></tr>" }.joined())</table>
            <h2>Latency percentiles</h2>
            <table class="latency">\(percentileRows.joined())</table>
            <div class="charts">\(charts.map(\.svg).joined(separator: "\n"))</div>
            </body></html>

            """
    }

    /// One row of the latency table: the percentiles, then the mean and the maximum.
    static func summaryRow(_ name: String, _ histogram: Histogram<UInt64>) -> String {
        let empty = histogram.totalCount == 0
        let cells = LoadReport.percentiles.map { label, value in
            "\(label) \(empty ? "-" : LoadReport.duration(histogram.valueAtPercentile(value)))"
        } + [
            "mean \(empty ? "-" : LoadReport.duration(UInt64(histogram.mean.rounded())))",
            "max \(empty ? "-" : LoadReport.duration(histogram.max))",
        ]
        return "<tr><td>\(escape(name))</td>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
    }

    /// The percentile axis's ticks, up to what `samples` answers can show: with N of
    /// them the highest distinct percentile is 1 - 1/N (x = log10 N), so 156,000 samples
    /// take the axis just past 99.999 %, not to 99.9999 % with a long flat tail.
    static func percentileTicks(samples: UInt64) -> [(Double, String)] {
        let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"]
        let last = min(labels.count - 1, max(2, Int(log10(Double(max(samples, 1))).rounded(.down))))
        return (0...last).map { (Double($0), labels[$0]) }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The percentile spectrum as HdrHistogram's plotter draws it: x is
    /// log10(1 / (1 - percentile)), so 90 %, 99 %, 99.9 % … are evenly spaced; y in ms.
    static func spectrumPoints(_ histogram: Histogram<UInt64>) -> [(Double, Double)] {
        guard histogram.totalCount > 0 else { return [] }
        // The last step is at 100 %, which has no place on this axis: it is drawn at the
        // highest percentile the samples resolve.
        let highest = min(1 - 1 / Double(histogram.totalCount), 0.999_999)
        return histogram.percentiles(ticksPerHalfDistance: 5).map { step in
            let fraction = min(step.percentileLevelIteratedTo / 100, highest)
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

/// A line chart as inline SVG (scaled to its column) with its legend below it, in HTML
/// so no label covers a line: axes from zero, ticks at round values.
struct Chart {
    let title: String
    let xLabel: String
    let yLabel: String
    let series: [ChartSeries]
    /// Fixed x ticks (value, label); nil: round ones from the data.
    let xTicks: [(Double, String)]?
    /// Whole numbers on the y axis (counts: no fractions of an error).
    var counts = false

    static let width = 560.0, height = 280.0
    static let left = 64.0, right = 32.0, top = 28.0, bottom = 40.0

    var svg: String {
        let all = series.flatMap(\.points)
        let yTicks = Self.ticks(upTo: all.map(\.1).max() ?? 0, whole: counts)
        let xAxis = xTicks ?? Self.ticks(upTo: all.map(\.0).max() ?? 1, whole: true).map { ($0, Self.label($0, step: 1)) }
        let xMax = max(xAxis.last?.0 ?? 1, all.map(\.0).max() ?? 1, 1)
        let yMax = yTicks.last!
        let yStep = yTicks.count > 1 ? yTicks[1] : yMax
        let plotWidth = Self.width - Self.left - Self.right, plotHeight = Self.height - Self.top - Self.bottom
        func x(_ value: Double) -> Double { Self.left + value / xMax * plotWidth }
        func y(_ value: Double) -> Double { Self.top + plotHeight - value / yMax * plotHeight }
        var parts: [String] = []
        parts.append("<text x=\"\(Self.left)\" y=\"16\" style=\"font-weight:600\">\(HTMLReport.escape(title))</text>")
        parts.append(
            "<rect x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#fafafa\" stroke=\"#bbb\"/>")
        for value in yTicks {
            parts.append(
                "<line x1=\"\(Self.left)\" x2=\"\(Self.left + plotWidth)\" y1=\"\(y(value))\" y2=\"\(y(value))\" stroke=\"#e4e4e4\"/>")
            parts.append("<text x=\"\(Self.left - 6)\" y=\"\(y(value) + 4)\" text-anchor=\"end\">\(Self.label(value, step: yStep))</text>")
        }
        for (value, label) in xAxis where value <= xMax {
            parts.append("<text x=\"\(x(value))\" y=\"\(Self.top + plotHeight + 16)\" text-anchor=\"middle\">\(label)</text>")
        }
        parts.append(
            "<text x=\"\(Self.left + plotWidth / 2)\" y=\"\(Self.height - 6)\" text-anchor=\"middle\">\(HTMLReport.escape(xLabel))</text>")
        parts.append(
            "<text x=\"14\" y=\"\(Self.top + plotHeight / 2)\" transform=\"rotate(-90 14 \(Self.top + plotHeight / 2))\" text-anchor=\"middle\">\(HTMLReport.escape(yLabel))</text>")
        for line in series where !line.points.isEmpty {
            let path = line.points.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
            parts.append("<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(path)\"/>")
            // Points marked on short series: a one-second run is a single point, no line.
            if line.points.count <= 30 {
                for point in line.points {
                    parts.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", x(point.0), y(point.1), line.color))
                }
            }
        }
        let named = series.filter { !$0.name.isEmpty && !$0.points.isEmpty }
        let legend = named.isEmpty ? "" : "<figcaption>" + named.map {
            "<span><i style=\"background:\($0.color)\"></i>\(HTMLReport.escape($0.name))</span>"
        }.joined() + "</figcaption>"
        return "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" role=\"img\" aria-label=\"\(HTMLReport.escape(title))\">"
            + parts.joined() + "</svg>\(legend)</figure>"
    }

    /// Ticks from 0 to at least `maximum`, at a round step (1, 2 or 5 times a power of
    /// ten; at least 1 when `whole`), four or five of them above zero.
    static func ticks(upTo maximum: Double, whole: Bool) -> [Double] {
        let top = max(maximum, whole ? 1 : 1e-3)
        var step = niceCeiling(top / 5)
        if whole { step = max(step.rounded(.up), 1) }
        let count = max(1, Int((top / step).rounded(.up)))
        return (0...count).map { Double($0) * step }
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, (log10(value)).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * power >= value { return factor * power }
        return 10 * power
    }

    /// `value` as a tick label, with as many decimals as `step` needs.
    static func label(_ value: Double, step: Double) -> String {
        if value >= 1_000_000 { return String(format: "%g", value / 1_000_000) + "M" }
        if value >= 10_000 { return String(format: "%g", value / 1_000) + "k" }
        let decimals = step >= 1 ? 0 : Int((-log10(step)).rounded(.up))
        return String(format: "%.\(decimals)f", value)
    }
}
