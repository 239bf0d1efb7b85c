//! The photo upload's multipart form: the first line of the input is the Content-Type (so the
//! boundary is fuzzed too), the rest the body. Every input ends in an upload or a problem code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let content_type = String::from_utf8_lossy(&data[..split]);
    let body = data.get(split + 1..).unwrap_or_default();
    let _ = fieldproof::http::photos::read_form(&content_type, body, 1024 * 1024);
});
