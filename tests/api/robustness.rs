//! 10 000 random mutations of the real fixtures — truncations, bit flips, huge declared sizes,
//! garbage EXIF — through the whole photo pipeline. Every one must end in a verdict or a clean
//! refusal with a code: no panic, no hang, no runaway memory.
//!
//! The large phone JPEGs and the iPhone HEICs are used through their first 96 KiB (all their
//! metadata and the start of the image data: a truncation), so 10 000 cases stay quick in a debug
//! build — a whole 12 MP HEIC takes a second to decode. The HEVC decoder is fuzzed whole on a
//! small HEIC of a real photo (a 2-tile grid, as phones write them), beside the Photoshop export,
//! a PNG and a WebP.

use std::time::{Duration, Instant};

use fieldproof::app::photos::check_file;
use fieldproof::domain::policy::Policy;
use fieldproof::domain::visit::PhotoKind;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::helpers::fixture;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for name in [
        "samsung-galaxy-s7-edge.jpg",
        "iphone-6.jpg",
        "oppo-r7-plus.jpg",
        "htc-one-m8-no-gps.jpg",
        "canon-1d-via-lightroom.jpg",
        "iphone-11-pro.heic",
        "iphone-11-pro-exif-at-eof.heic",
    ] {
        let mut bytes = fixture(name);
        bytes.truncate(96 * 1024);
        out.push((format!("{name}[..96K]"), bytes));
    }
    out.push(("photoshop-cs6-export.jpg".to_string(), fixture("photoshop-cs6-export.jpg")));
    // A small PNG, WebP and HEIC of a real photo, so those decoders are fuzzed whole too.
    let photo = image::load_from_memory(&fixture("photoshop-cs6-export.jpg")).unwrap();
    let wide = photo.resize_exact(640, 360, image::imageops::FilterType::Triangle).to_rgb8();
    let heic = heifer::encode_rgb8(640, 360, wide.as_raw(), &heifer::EncodeOptions { quality: 60, max_threads: 1 }).unwrap();
    out.push(("small.heic".to_string(), heic));
    let small = photo.thumbnail(300, 300);
    for (fmt, name) in [(image::ImageFormat::Png, "small.png"), (image::ImageFormat::WebP, "small.webp")] {
        let mut buf = std::io::Cursor::new(Vec::new());
        small.write_to(&mut buf, fmt).unwrap();
        out.push((name.to_string(), buf.into_inner()));
    }
    out
}

fn mutate(rng: &mut StdRng, original: &[u8]) -> (String, Vec<u8>) {
    let mut b = original.to_vec();
    match rng.gen_range(0..6) {
        0 => {
            let at = rng.gen_range(0..=b.len());
            b.truncate(at);
            (format!("truncate@{at}"), b)
        }
        1 => {
            let flips = rng.gen_range(1..=32);
            for _ in 0..flips {
                let i = rng.gen_range(0..b.len());
                b[i] ^= 1 << rng.gen_range(0..8);
            }
            (format!("{flips} bit flips"), b)
        }
        2 => {
            // Huge sizes where headers keep theirs: the bytes after a JPEG SOF, PNG IHDR, or
            // any 32-bit field near the start.
            let at = find_any(&b, &[&[0xFF, 0xC0], &[0xFF, 0xC2], b"IHDR", b"ispe"])
                .map(|i| i + rng.gen_range(2..10))
                .unwrap_or(rng.gen_range(0..b.len().min(512)));
            for k in 0..4 {
                if at + k < b.len() {
                    b[at + k] = 0xFF;
                }
            }
            (format!("huge size @{at}"), b)
        }
        3 => {
            // Garbage inside the EXIF/metadata region.
            let end = b.len().min(4096);
            let start = rng.gen_range(0..end.max(1));
            let len = rng.gen_range(1..=256).min(end.saturating_sub(start).max(1));
            for i in start..(start + len).min(b.len()) {
                b[i] = rng.gen();
            }
            (format!("garbage {len} bytes @{start}"), b)
        }
        4 => {
            // Segment lengths and box sizes set to 0 or max.
            let at = rng.gen_range(0..b.len().min(2048));
            let v = if rng.gen_bool(0.5) { 0x00 } else { 0xFF };
            for k in 0..2 {
                if at + k < b.len() {
                    b[at + k] = v;
                }
            }
            (format!("length {v:#x} @{at}"), b)
        }
        _ => {
            // Duplicate a slice onto another place.
            let a = rng.gen_range(0..b.len());
            let len = rng.gen_range(1..=1024).min(b.len() - a);
            let to = rng.gen_range(0..b.len() - len + 1);
            let chunk = b[a..a + len].to_vec();
            b[to..to + len].copy_from_slice(&chunk);
            (format!("copy {len} bytes {a}->{to}"), b)
        }
    }
}

fn find_any(hay: &[u8], needles: &[&[u8]]) -> Option<usize> {
    needles.iter().filter_map(|n| hay.windows(n.len()).position(|w| w == *n)).min()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

#[test]
fn ten_thousand_mutated_photos_end_in_a_verdict_or_a_clean_refusal() {
    let policy = Policy::default();
    let corpus = corpus();
    let mut rng = StdRng::seed_from_u64(0x5EED_F1E1D);
    let (mut verdicts, mut refusals) = (0usize, std::collections::BTreeMap::<&'static str, usize>::new());
    let mut slowest = (Duration::ZERO, String::new());
    let rss_before = peak_rss_kib();
    for case in 0..10_000 {
        let (source, original) = &corpus[case % corpus.len()];
        let (what, bytes) = mutate(&mut rng, original);
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| check_file(&policy, &bytes, PhotoKind::Storefront, chrono_tz::Asia::Jakarta));
        let took = started.elapsed();
        match result {
            Ok(Ok(_)) => verdicts += 1,
            Ok(Err(e)) => *refusals.entry(e.code()).or_default() += 1,
            Err(_) => panic!("case {case}: {source} with {what} panicked the pipeline"),
        }
        if took > slowest.0 {
            slowest = (took, format!("{source} with {what}"));
        }
        // A hang guard, not a performance target: a debug build checks one of these in ms.
        assert!(took < Duration::from_secs(10), "case {case}: {source} with {what} took {took:?}");
    }
    let grown_mib = peak_rss_kib().saturating_sub(rss_before) / 1024;
    eprintln!(
        "10 000 mutations: {verdicts} verdicts, refusals {refusals:?}; slowest {:?} ({}); peak RSS grew {grown_mib} MiB",
        slowest.0, slowest.1
    );
    assert_eq!(verdicts + refusals.values().sum::<usize>(), 10_000);
    assert!(verdicts > 500 && refusals.values().sum::<usize>() > 500, "the mutations exercise both outcomes");
    // Other tests run in this process at the same time, so this is a loose bound on runaway
    // allocation (a decompression bomb would take gigabytes), not a measurement.
    assert!(grown_mib < 1024, "peak RSS grew {grown_mib} MiB");
}
