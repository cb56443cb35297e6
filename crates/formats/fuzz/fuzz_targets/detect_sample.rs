#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').take(16).collect();
    let _ = watchtrail_formats::detect(&lines);
    let _ = watchtrail_formats::kind_from_object_key(&text);
});
