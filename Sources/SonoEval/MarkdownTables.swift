import Foundation

/// Markdown tables of probe results, for docs and experiment notes: scores in percent with one
/// decimal (how the group's papers print them), fold summaries as "mean (sd)".
extension ClassificationMetrics {
    /// Per-class precision / recall / F1 / support, then the macro rows and accuracy.
    public func markdownTable() -> String {
        var lines = ["| class | precision (%) | recall (%) | F1 (%) | support |", "|---|---:|---:|---:|---:|"]
        for c in perClass {
            lines.append("| \(c.id) | \(percent(c.precision)) | \(percent(c.recall)) | \(percent(c.f1)) | \(c.support) |")
        }
        lines.append("| macro (\(subset.count) classes) | \(percent(macroSubset.precision)) | \(percent(macroSubset.recall)) | \(percent(macroSubset.f1)) | |")
        lines.append("| macro (all \(classes.count)) | \(percent(macroAll.precision)) | \(percent(macroAll.recall)) | \(percent(macroAll.f1)) | |")
        lines.append("| accuracy | | | \(percent(accuracy)) | \(sampleCount) |")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Rows true class, columns predicted class, counts.
    public func markdownConfusionMatrix() -> String {
        var lines = ["| true \\ predicted | " + classes.joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---:|", count: classes.count)]
        for (c, row) in confusion.enumerated() {
            lines.append("| \(classes[c]) | " + row.map(String.init).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension FoldSummary {
    /// Per-class "mean (sd)" over folds, then macro rows and accuracy; sd is the sample sd.
    public func markdownTable() -> String {
        var lines = ["| class (\(folds) folds, mean (sd)) | precision (%) | recall (%) | F1 (%) | support |",
                     "|---|---:|---:|---:|---:|"]
        for c in perClass {
            lines.append("| \(c.id) | \(meanSD(c.precision)) | \(meanSD(c.recall)) | \(meanSD(c.f1)) | \(c.support) |")
        }
        lines.append("| macro (\(subset.count) classes) | \(meanSD(macroSubset.precision)) | \(meanSD(macroSubset.recall)) | \(meanSD(macroSubset.f1)) | |")
        lines.append("| macro (all \(classes.count)) | \(meanSD(macroAll.precision)) | \(meanSD(macroAll.recall)) | \(meanSD(macroAll.f1)) | |")
        lines.append("| accuracy | | | \(meanSD(accuracy)) | |")
        return lines.joined(separator: "\n") + "\n"
    }
}

private func percent(_ v: Double) -> String { String(format: "%.1f", v * 100) }

private func meanSD(_ m: MeanSD) -> String {
    "\(percent(m.mean)) (\(m.sd.map(percent) ?? "–"))"
}
