//! Splits the input at the first NUL into a pattern and a message; parses the
//! pattern and, when it parses, matches and extracts against the message.
//! Any panic (or a disagreement between `matches` and `extract`) is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_filter_pattern::FilterPattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, message) = text.split_once('\0').unwrap_or((text, ""));
    if let Ok(parsed) = FilterPattern::parse(pattern) {
        let matched = parsed.matches(message);
        assert_eq!(matched, parsed.extract(message).is_some(), "pattern {pattern:?} message {message:?}");
        // The pattern applied to its own text exercises JSON and delimited
        // matching on inputs that look like the pattern.
        let _ = parsed.matches(pattern);
    }
});
