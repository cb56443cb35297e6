//! One target for every parser: the first byte picks the format, the rest is
//! fed line by line to one LineParser (so header state is exercised too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_formats::{FormatKind, LineOutcome, LineParser};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let kind = FormatKind::ALL[selector as usize % FormatKind::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    let mut parser = LineParser::new(kind);
    for line in text.split('\n') {
        if let LineOutcome::Record(r) = parser.parse_line(line) {
            // Owning a record must not panic either.
            let _ = r.into_owned();
        }
    }
    let _ = watchtrail_formats::cloudtrail_file_records(rest);
});
