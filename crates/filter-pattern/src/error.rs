use std::fmt;

/// Why a filter pattern was refused.
///
/// `message` is returned verbatim as the message of an AWS
/// `InvalidParameterException`, so it uses CloudWatch's own wording where that
/// wording is known (`Invalid character(s) in term '...'`,
/// `If a filter pattern starts with '{' it must end with '}'`) and otherwise
/// starts with `Invalid filter pattern:` followed by the precise reason.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPatternError {
    pub message: String,
}

impl FilterPatternError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// CloudWatch's message for a character that is not allowed where it appears.
    pub(crate) fn invalid_term(term: &str) -> Self {
        Self::new(format!("Invalid character(s) in term '{term}'"))
    }

    /// Any other refusal, with the reason spelled out.
    pub(crate) fn invalid(reason: impl fmt::Display) -> Self {
        Self::new(format!("Invalid filter pattern: {reason}"))
    }
}

impl fmt::Display for FilterPatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterPatternError {}
