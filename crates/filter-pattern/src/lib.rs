//! The CloudWatch Logs filter-pattern language, as used by FilterLogEvents,
//! metric filters, subscription filters and Live Tail.
//!
//! A pattern is one of:
//! - blank: matches every event;
//! - terms: `ERROR "exact phrase" -excluded ?either ?or %regex%`;
//! - JSON, starting with `{`: `{ $.status >= 500 && $.path = "/api/*" }`;
//! - space-delimited, starting with `[`: `[ip, user, ..., status = 4*, bytes > 1000]`.
//!
//! Patterns AWS refuses are refused here with an AWS-style message; nothing that
//! fails to parse is ever treated as "match everything".
//!
//! ```
//! use watchtrail_filter_pattern::FilterPattern;
//!
//! let pattern = FilterPattern::parse("{ $.eventType = \"UpdateTrail\" }").unwrap();
//! assert!(pattern.matches(r#"{"eventType": "UpdateTrail"}"#));
//! assert!(!pattern.matches("UpdateTrail"));
//! ```

mod condition;
mod cursor;
mod delimited;
mod error;
mod json;
mod json_capture;
mod regex_subset;
mod terms;

pub use error::FilterPatternError;

use delimited::DelimitedPattern;
use json::JsonPattern;
use terms::TermPattern;

/// A parsed filter pattern, ready to test many events. Cheap to share across
/// threads: matching takes `&self` and keeps no per-call state in the pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Everything,
    Terms(TermPattern),
    Json(JsonPattern),
    Delimited(DelimitedPattern),
}

/// Which of the pattern languages a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// Blank: matches every event.
    MatchAll,
    /// Terms, phrases and standalone regexes over unstructured text.
    Terms,
    /// `{ ... }` over JSON events.
    Json,
    /// `[ ... ]` over space-delimited events.
    SpaceDelimited,
}

impl FilterPattern {
    /// Parses a pattern. The kind is chosen by its first character, as AWS does:
    /// `{` for JSON and `[` for space-delimited (so a leading space makes a
    /// pattern unstructured, and AWS then refuses `{` as a term character).
    pub fn parse(pattern: &str) -> Result<FilterPattern, FilterPatternError> {
        let mut regex_count = 0;
        let kind = if pattern.trim().is_empty() {
            Kind::Everything
        } else if let Some(after_brace) = pattern.strip_prefix('{') {
            let body = after_brace.trim_end().strip_suffix('}').ok_or_else(|| {
                FilterPatternError::new("If a filter pattern starts with '{' it must end with '}'")
            })?;
            Kind::Json(JsonPattern::parse(body, &mut regex_count)?)
        } else if let Some(after_bracket) = pattern.strip_prefix('[') {
            let body = after_bracket.trim_end().strip_suffix(']').ok_or_else(|| {
                FilterPatternError::new("If a filter pattern starts with '[' it must end with ']'")
            })?;
            Kind::Delimited(DelimitedPattern::parse(body, &mut regex_count)?)
        } else {
            Kind::Terms(TermPattern::parse(pattern, &mut regex_count)?)
        };
        if regex_count > regex_subset::MAX_REGEXES_PER_PATTERN {
            return Err(FilterPatternError::invalid(format!(
                "the pattern has {regex_count} regular expressions; at most {} are allowed in one filter pattern",
                regex_subset::MAX_REGEXES_PER_PATTERN
            )));
        }
        Ok(FilterPattern {
            source: pattern.to_owned(),
            kind,
        })
    }

    /// Whether `message` (an event's message text) matches.
    pub fn matches(&self, message: &str) -> bool {
        match &self.kind {
            Kind::Everything => true,
            Kind::Terms(terms) => terms.matches(message),
            Kind::Json(json) => json.matches(message),
            Kind::Delimited(delimited) => delimited.matches(message),
        }
    }

    /// `Some(values)` when `message` matches, as TestMetricFilter's
    /// `extractedValues`: for space-delimited patterns every field of the event,
    /// keyed `$name` when the pattern names it and `$position` (1-based)
    /// otherwise; for JSON patterns each selector the pattern tests that holds a
    /// scalar in this event, keyed by the selector as written (`$.status`);
    /// for blank and term patterns, nothing.
    pub fn extract(&self, message: &str) -> Option<Vec<(String, String)>> {
        match &self.kind {
            Kind::Everything => Some(Vec::new()),
            Kind::Terms(terms) => terms.matches(message).then(Vec::new),
            Kind::Json(json) => json.extract(message),
            Kind::Delimited(delimited) => delimited.extract(message),
        }
    }

    /// True for the blank pattern, which matches every event; callers can skip
    /// matching altogether.
    pub fn is_match_all(&self) -> bool {
        matches!(self.kind, Kind::Everything)
    }

    /// The language the pattern is written in. Metric filters need this: AWS
    /// allows dimensions only for JSON and space-delimited patterns.
    pub fn kind(&self) -> PatternKind {
        match self.kind {
            Kind::Everything => PatternKind::MatchAll,
            Kind::Terms(_) => PatternKind::Terms,
            Kind::Json(_) => PatternKind::Json,
            Kind::Delimited(_) => PatternKind::SpaceDelimited,
        }
    }

    /// The `$...` references that a metric filter's `metricValue` and
    /// `dimensions` may use with this pattern: the selectors of a JSON pattern
    /// (`$.latency`) or the named fields of a space-delimited one (`$bytes`).
    /// Empty for blank and term patterns, which extract nothing.
    pub fn field_references(&self) -> Vec<String> {
        match &self.kind {
            Kind::Everything | Kind::Terms(_) => Vec::new(),
            Kind::Json(json) => json.selector_sources().map(str::to_owned).collect(),
            Kind::Delimited(delimited) => delimited
                .field_names()
                .map(|name| format!("${name}"))
                .collect(),
        }
    }

    /// The pattern text as given to [`FilterPattern::parse`].
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl std::str::FromStr for FilterPattern {
    type Err = FilterPatternError;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        FilterPattern::parse(pattern)
    }
}

impl std::fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}

    #[test]
    fn filter_pattern_is_shareable() {
        assert_send_sync::<FilterPattern>();
    }
}
