//! WhatsApp screenshots read by OCR: per screenshot, what the check costs (Tesseract's time
//! with the preparation and the parsing) and whether what it extracted agrees with what was
//! rendered — the chat's date (resolved on the day received), the contact (the header names the
//! customer or its number), the customer's side (present or not) — over the variants that
//! `fixtures/screenshots/render.py OUT --variants N` renders in Chromium (phone sizes, ID and EN,
//! light and dark, names and numbers, five date forms, one in five one-sided, old chats). Each
//! is also recompressed (JPEG q75), resized (75 %) and cropped (status and input bars cut): is the
//! copy found again by the perceptual hashes or the text fingerprint?
//!
//! ```text
//! python3 fixtures/screenshots/render.py target/screenshot-variants --variants 120
//! cargo bench --bench screenshots -- target/screenshot-variants
//! ```
//!
//! Prints a Markdown table; results in BENCHMARKS.md.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use fieldproof::domain::policy::Policy;
use fieldproof::domain::rules::near_match;
use fieldproof::domain::rules::screenshot::{header_names, resolve_chat_date};
use fieldproof::domain::visit::ChatDateFact;
use fieldproof::media::chat::{ChatDate, ChatReading, Side};
use fieldproof::media::ocr::Tesseract;
use fieldproof::media::{inspect, read_screenshot, ChatOutcome, Limits};
use serde_json::Value;

const LIMITS: Limits = Limits { max_bytes: 30 << 20, max_side_px: 12_000, max_pixels: 120_000_000, faces_min_px: None };

fn fact((shown, d): &(String, ChatDate)) -> ChatDateFact {
    let base = ChatDateFact { shown: shown.clone(), ..Default::default() };
    match d {
        ChatDate::Today => ChatDateFact { kind: "today".into(), ..base },
        ChatDate::Yesterday => ChatDateFact { kind: "yesterday".into(), ..base },
        ChatDate::Weekday(w) => ChatDateFact { kind: "weekday".into(), weekday: Some(*w), ..base },
        ChatDate::DayMonth(a, b) => ChatDateFact { kind: "day_month".into(), day_month: Some((*a, *b)), ..base },
        ChatDate::Date(x) => ChatDateFact { kind: "date".into(), date: Some(*x), ..base },
    }
}

/// What one screenshot gave: the reading, its text fingerprint, OCR's time, the perceptual hashes.
type Read = (ChatReading, Option<String>, Duration, Option<([u8; 32], u64)>);

fn read(engine: &Tesseract, bytes: &[u8]) -> Read {
    let inspection = inspect(bytes, None, &LIMITS).expect("a readable screenshot");
    let hash = inspection.hash.map(|h| (h.dhash, h.ahash));
    match read_screenshot(Some(engine), bytes, inspection.format, LIMITS.max_pixels) {
        ChatOutcome::Read { reading, fingerprint, elapsed, .. } => (reading, fingerprint, elapsed, hash),
        other => panic!("not read: {other:?}"),
    }
}

fn percentile(xs: &mut [Duration], p: f64) -> Duration {
    xs.sort();
    xs[((xs.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let dir = std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "target/screenshot-variants".into());
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(format!("{dir}/manifest.json")).unwrap_or_else(|e| panic!("{dir}/manifest.json: {e} (render the variants first)")),
    )
    .unwrap();
    let engine = Tesseract::detect("tesseract", "ind+eng", Duration::from_secs(30)).expect("tesseract with ind+eng");
    let policy = Policy::default();
    let (mut times, mut n) = (Vec::new(), 0usize);
    let (mut date_ok, mut contact_ok, mut side_ok, mut all_ok) = (0, 0, 0, 0);
    let mut reuse = [(0usize, 0usize, 0usize); 3]; // (by hash, by text, either) per copy kind
    let mut misses = Vec::new();
    for spec in manifest.as_array().unwrap() {
        let name = spec["name"].as_str().unwrap();
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        let started = Instant::now();
        let (reading, fingerprint, _, hash) = read(&engine, &bytes);
        times.push(started.elapsed());
        n += 1;
        let received: NaiveDate = spec["received"].as_str().unwrap().parse().unwrap();
        let truth_date: NaiveDate = spec["chat_date"].as_str().unwrap().parse().unwrap();
        let dates: Vec<NaiveDate> = reading.dates.iter().filter_map(|d| resolve_chat_date(&fact(d), received)).collect();
        let d_ok = dates.contains(&truth_date);
        let names = [spec["contact_name"].as_str().unwrap()];
        let c_ok = reading.header.as_deref().is_some_and(|h| header_names(h, &names, spec["contact_phone"].as_str()));
        let customer_said = !spec["one_sided"].as_bool().unwrap();
        let s_ok = reading.lines.iter().any(|l| l.side == Side::Customer) == customer_said;
        date_ok += usize::from(d_ok);
        contact_ok += usize::from(c_ok);
        side_ok += usize::from(s_ok);
        all_ok += usize::from(d_ok && c_ok && s_ok);
        if !(d_ok && c_ok && s_ok) {
            misses.push(format!(
                "{name} ({} {} {}): date {:?} → {d_ok}, header {:?} → {c_ok}, customer lines {} → {s_ok}",
                spec["lang"].as_str().unwrap(),
                spec["theme"].as_str().unwrap(),
                spec["date_kind"].as_str().unwrap(),
                reading.dates.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
                reading.header,
                reading.lines.iter().filter(|l| l.side == Side::Customer).count(),
            ));
        }
        // The copies a rep would make to reuse it.
        let img = image::load_from_memory(&bytes).unwrap();
        let (w, h) = (img.width(), img.height());
        let mut copies: [Vec<u8>; 3] = Default::default();
        img.to_rgb8().write_to(&mut std::io::Cursor::new(&mut copies[0]), image::ImageFormat::Jpeg).unwrap();
        img.resize(w * 3 / 4, h * 3 / 4, image::imageops::FilterType::Triangle)
            .write_to(&mut std::io::Cursor::new(&mut copies[1]), image::ImageFormat::Png)
            .unwrap();
        img.crop_imm(0, h / 30, w, h - h / 30 - h / 12)
            .write_to(&mut std::io::Cursor::new(&mut copies[2]), image::ImageFormat::Png)
            .unwrap();
        for (k, copy) in copies.iter().enumerate() {
            let (_, fp, _, copy_hash) = read(&engine, copy);
            let by_hash = match (hash, copy_hash) {
                (Some(a), Some(b)) => near_match(&policy, (&a.0, a.1), (&b.0, b.1)).is_some(),
                _ => false,
            };
            let by_text = fingerprint.is_some() && fp == fingerprint;
            reuse[k].0 += usize::from(by_hash);
            reuse[k].1 += usize::from(by_text);
            reuse[k].2 += usize::from(by_hash || by_text);
        }
    }
    let pct = |k: usize| format!("{k}/{n} ({:.0} %)", 100.0 * k as f64 / n as f64);
    println!("| screenshots | OCR check p50 | p90 | max | date agrees | contact agrees | sides agree | all three |");
    println!("|---|---|---|---|---|---|---|---|");
    let (p50, p90, max) = (percentile(&mut times, 0.5), percentile(&mut times, 0.9), percentile(&mut times, 1.0));
    println!(
        "| {n} | {:.0} ms | {:.0} ms | {:.0} ms | {} | {} | {} | {} |",
        p50.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        pct(date_ok),
        pct(contact_ok),
        pct(side_ok),
        pct(all_ok)
    );
    println!();
    println!("| copy | found by the perceptual hashes | by the text fingerprint | by either |");
    println!("|---|---|---|---|");
    for (k, what) in ["recompressed (JPEG q75)", "resized to 75 %", "cropped (status and input bars)"].iter().enumerate() {
        println!("| {what} | {} | {} | {} |", pct(reuse[k].0), pct(reuse[k].1), pct(reuse[k].2));
    }
    if !misses.is_empty() {
        println!("\nDisagreements:");
        for m in misses {
            println!("- {m}");
        }
    }
}
