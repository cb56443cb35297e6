//! libFuzzer target: both query languages' parsers, and executing whatever
//! parses, must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod check;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check::check_query_text(text);
    }
});
