//! Guessing the format of a file from a sample of its lines.
//!
//! Every parser is run over the sample. Formats are ranked in tiers from the
//! most specific (AWS formats, whose parsers check identifying fields) to the
//! least (space-delimited text, which almost anything is). The answer comes
//! from the most specific tier in which some format parses the sample; if two
//! formats of that tier do, the answer is `Unsure` rather than a guess.

use crate::kind::{FormatKind, LineParser};
use crate::record::LineOutcome;

#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    Detected {
        kind: FormatKind,
        /// Fraction of the sample's non-header lines the format parsed,
        /// lowered for the catch-all formats.
        confidence: f64,
    },
    /// No single format fits. Candidates are the formats that parsed part of
    /// the sample, best first.
    Unsure { candidates: Vec<FormatKind> },
}

/// Share of non-header lines a format must parse to count as a fit; one bad
/// line in ten is tolerated so that a truncated last line does not defeat detection.
const FIT: f64 = 0.9;

fn tier(kind: FormatKind) -> u8 {
    match kind {
        FormatKind::Syslog3164
        | FormatKind::Syslog5424
        | FormatKind::ApacheCommon
        | FormatKind::ApacheCombined => 1,
        FormatKind::Logfmt => 2,
        FormatKind::Json => 3,
        FormatKind::SpaceDelimited => 4,
        _ => 0,
    }
}

struct Score {
    kind: FormatKind,
    records: usize,
    malformed: usize,
    headers: usize,
}

impl Score {
    fn fraction(&self) -> f64 {
        let total = self.records + self.malformed;
        if total == 0 {
            0.0
        } else {
            self.records as f64 / total as f64
        }
    }
}

fn score(kind: FormatKind, sample: &[&str]) -> Score {
    let mut parser = LineParser::new(kind);
    let mut s = Score {
        kind,
        records: 0,
        malformed: 0,
        headers: 0,
    };
    let mut field_counts = Vec::new();
    for line in sample {
        match parser.parse_line(line) {
            LineOutcome::Record(r) => {
                s.records += 1;
                field_counts.push(r.fields.len());
            }
            LineOutcome::Malformed { .. } => s.malformed += 1,
            LineOutcome::Header => {
                if !line.trim().is_empty() {
                    s.headers += 1;
                }
            }
        }
    }
    // Space-delimited text fits only when every line has the same shape;
    // otherwise it would fit every sample.
    if kind == FormatKind::SpaceDelimited {
        let first = field_counts.first().copied().unwrap_or(0);
        let differing = field_counts.iter().filter(|&&n| n != first).count();
        if first < 2 || differing > 0 {
            s.malformed += s.records;
            s.records = 0;
        }
    }
    s
}

pub fn detect(sample_lines: &[&str]) -> Detection {
    // A CloudTrail trail file is one JSON document, not a record per line;
    // the generic JSON parser would otherwise claim its single line.
    let first = sample_lines
        .iter()
        .map(|l| l.trim_start())
        .find(|l| !l.is_empty());
    if let Some(first) = first {
        let compact: String = first
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(12)
            .collect();
        if compact.starts_with("{\"Records\"") {
            let whole = sample_lines.join("\n");
            let parses = crate::json_logs::cloudtrail_records(whole.as_bytes()).is_ok();
            return Detection::Detected {
                kind: FormatKind::CloudTrail,
                // A sample cut from a longer file does not parse whole.
                confidence: if parses { 1.0 } else { 0.9 },
            };
        }
    }
    let scores: Vec<Score> = FormatKind::ALL
        .iter()
        .map(|&k| score(k, sample_lines))
        .collect();
    // A header with no records (a CloudFront file cut after `#Fields`) is not enough.
    let fits: Vec<&Score> = scores
        .iter()
        .filter(|s| s.records > 0 && s.fraction() >= FIT)
        .collect();
    if let Some(best_tier) = fits.iter().map(|s| tier(s.kind)).min() {
        let mut in_tier: Vec<&&Score> = fits.iter().filter(|s| tier(s.kind) == best_tier).collect();
        // EMF events are JSON that another JSON format may also accept; the
        // EMF directive is the more specific signal.
        if in_tier.len() > 1 && in_tier.iter().any(|s| s.kind == FormatKind::Emf) {
            in_tier.retain(|s| s.kind == FormatKind::Emf);
        }
        // A format that consumed header lines (VPC, CloudFront) explains the
        // sample better than one that had to call them records or errors.
        if in_tier.len() > 1 {
            let most_headers = in_tier.iter().map(|s| s.headers).max().unwrap_or(0);
            if most_headers > 0 {
                in_tier.retain(|s| s.headers == most_headers);
            }
        }
        if in_tier.len() == 1 {
            let s = in_tier[0];
            let penalty = match s.kind {
                FormatKind::SpaceDelimited => 0.5,
                FormatKind::Json | FormatKind::Logfmt => 0.8,
                _ => 1.0,
            };
            return Detection::Detected {
                kind: s.kind,
                confidence: s.fraction() * penalty,
            };
        }
        let mut candidates: Vec<FormatKind> = in_tier.iter().map(|s| s.kind).collect();
        candidates.sort();
        return Detection::Unsure { candidates };
    }
    let mut partial: Vec<&Score> = scores
        .iter()
        .filter(|s| s.records > 0 && s.kind != FormatKind::SpaceDelimited)
        .collect();
    partial.sort_by(|a, b| {
        b.fraction()
            .total_cmp(&a.fraction())
            .then(tier(a.kind).cmp(&tier(b.kind)))
    });
    Detection::Unsure {
        candidates: partial.iter().map(|s| s.kind).collect(),
    }
}
