#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = watchtrail_formats::open_decoded(std::io::Cursor::new(data.to_vec())) {
        let mut sink = Vec::new();
        // Corrupt input may be an error; it must not be a panic or unbounded growth.
        let _ = reader.by_ref().take(1 << 24).read_to_end(&mut sink);
    }
});
