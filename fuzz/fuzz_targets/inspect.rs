//! The whole photo inspection on arbitrary bytes — sniffing, the header, EXIF, XMP and the
//! Photoshop markers, the JPEG, PNG, WebP and HEIC decodes, hashes, faces — and the thumbnail,
//! as the server runs them: a file whose decode would exceed the server's decode budget is
//! refused there before decoding, so it is here. Every input ends in an inspection or a clean
//! error within 2 s (libFuzzer's `-rss_limit_mb` holds the memory).
#![no_main]

use std::time::{Duration, Instant};

use fieldproof::media::{self, Limits};
use libfuzzer_sys::fuzz_target;

/// `media.decode_memory_mib`'s default.
const BUDGET: u64 = 160 * 1024 * 1024;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 25 * 1024 * 1024, max_side_px: 16_384, max_pixels: 120_000_000, faces_min_px: Some(40) };
    if media::decode_cost(data, &limits, false) > BUDGET {
        return;
    }
    let started = Instant::now();
    if let Ok(inspection) = media::inspect(data, None, &limits) {
        assert!(inspection.width > 0 && inspection.height > 0);
        let _ = media::thumbnail::thumbnail(data, limits.max_pixels);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?} for {} bytes", started.elapsed(), data.len());
});
