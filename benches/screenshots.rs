//! WhatsApp screenshots read by OCR: per screenshot, what the check costs (Tesseract's time
//! with the preparation and the parsing) and whether what it extracted agrees with what was
//! rendered — the chat's date (resolved on the day received), the contact (the header names the
//! customer or its number), the customer's side (present or not) — over the variants that
//! `fixtures/screenshots/render.py OUT --variants N` renders in Chromium (phone sizes, ID and EN,
//! light and dark, names and numbers, five date forms, one in five one-sided, old chats). Each
//! is also recompressed (JPEG q75), resized (75 %) and cropped (status and input bars cut): is the
//! copy found again by its chat text (`rules::screenshot::same_chat`, what the server uses)? And
//! by the perceptual hashes — which also call pairs of *different* chats copies (counted first),
//! the reason screenshots are matched by their text.
//!
//! ```text
//! python3 fixtures/screenshots/render.py target/screenshot-variants --variants 120
//! cargo bench --bench screenshots -- target/screenshot-variants
//! ```
//!
//! Prints a Markdown table; results in BENCHMARKS.md.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use fieldproof::app::photos::check_file_with;
use fieldproof::domain::policy::Policy;
use fieldproof::domain::rules::near_match;
use fieldproof::domain::rules::screenshot::{header_names, resolve_chat_date, same_chat};
use fieldproof::domain::visit::{ChatFacts, PhotoKind};
use fieldproof::media::ocr::Tesseract;
use fieldproof::media::{inspect, Limits};
use serde_json::Value;

const LIMITS: Limits = Limits { max_bytes: 30 << 20, max_side_px: 12_000, max_pixels: 120_000_000, faces_min_px: None };

/// What one screenshot gave: its chat as the server keeps it, and the perceptual hashes.
type Read = (ChatFacts, Option<([u8; 32], u64)>);

/// The server's own screenshot check (`check_file_with`, the same code as an upload's).
fn read(policy: &Policy, engine: &Tesseract, bytes: &[u8]) -> Read {
    let (_, facts, _) = check_file_with(policy, bytes, PhotoKind::WhatsappScreenshot, chrono_tz::Asia::Jakarta, Some(engine))
        .expect("a readable screenshot");
    let hashes = facts.perceptual_hashes();
    match facts.chat {
        Some(chat) if chat.status == "read" => (chat, hashes),
        other => panic!("not read: {other:?}"),
    }
}

/// Different chats look alike (the same app, header, bubbles): how many pairs of different
/// screenshots would the perceptual hashes call copies? (A false `photo_reused`.)
fn different_chats_are_not_copies(policy: &Policy, dir: &str, manifest: &Value) {
    let hashes: Vec<(String, [u8; 32], u64)> = manifest
        .as_array()
        .unwrap()
        .iter()
        .map(|spec| {
            let name = spec["name"].as_str().unwrap().to_string();
            let h = inspect(&std::fs::read(format!("{dir}/{name}")).unwrap(), None, &LIMITS).unwrap().hash.unwrap();
            (name, h.dhash, h.ahash)
        })
        .collect();
    let (mut pairs, mut matched, mut closest) = (0usize, Vec::new(), u32::MAX);
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            pairs += 1;
            let d: u32 = hashes[i].1.iter().zip(&hashes[j].1).map(|(a, b)| (a ^ b).count_ones()).sum();
            closest = closest.min(d);
            if near_match(policy, (&hashes[i].1, hashes[i].2), (&hashes[j].1, hashes[j].2)).is_some() {
                matched.push(format!("{} ~ {} (dHash distance {d})", hashes[i].0, hashes[j].0));
            }
        }
    }
    println!("| pairs of different chats | called copies by the perceptual hashes | closest dHash distance |");
    println!("|---|---|---|");
    println!("| {pairs} | {} | {closest} |\n", matched.len());
    for m in matched.iter().take(20) {
        println!("- {m}");
    }
    if !matched.is_empty() {
        println!();
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
    let policy = Policy::default();
    different_chats_are_not_copies(&policy, &dir, &manifest);
    if std::env::args().any(|a| a == "--pairs-only") {
        return;
    }
    let engine = Tesseract::detect("tesseract", "ind+eng", Duration::from_secs(30)).expect("tesseract with ind+eng");
    let (mut times, mut n) = (Vec::new(), 0usize);
    let (mut date_ok, mut contact_ok, mut side_ok, mut all_ok) = (0, 0, 0, 0);
    let mut reuse = [(0usize, 0usize, 0usize); 3]; // (by hash, by text, either) per copy kind
    let mut misses = Vec::new();
    let mut originals: Vec<(String, String, Option<String>)> = Vec::new();
    for spec in manifest.as_array().unwrap() {
        let name = spec["name"].as_str().unwrap();
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        let started = Instant::now();
        let (chat, hash) = read(&policy, &engine, &bytes);
        originals.push((name.to_string(), chat.text.clone(), chat.header.clone()));
        times.push(started.elapsed());
        n += 1;
        let received: NaiveDate = spec["received"].as_str().unwrap().parse().unwrap();
        let truth_date: NaiveDate = spec["chat_date"].as_str().unwrap().parse().unwrap();
        let dates: Vec<NaiveDate> = chat.dates.iter().filter_map(|d| resolve_chat_date(d, received)).collect();
        let d_ok = dates.contains(&truth_date);
        let names = [spec["contact_name"].as_str().unwrap()];
        let c_ok = chat.header.as_deref().is_some_and(|h| header_names(h, &names, spec["contact_phone"].as_str()));
        let customer_said = !spec["one_sided"].as_bool().unwrap();
        let s_ok = (chat.customer_lines > 0) == customer_said;
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
                chat.dates.iter().map(|d| d.shown.as_str()).collect::<Vec<_>>(),
                chat.header,
                chat.customer_lines,
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
            let (copy_chat, copy_hash) = read(&policy, &engine, copy);
            let by_hash = match (hash, copy_hash) {
                (Some(a), Some(b)) => near_match(&policy, (&a.0, a.1), (&b.0, b.1)).is_some(),
                _ => false,
            };
            let by_text = same_chat(&chat.text, chat.header.as_deref(), &copy_chat.text, copy_chat.header.as_deref()).is_some();
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
    println!("| copy | found by the perceptual hashes | by the chat's text (what the server uses) | by either |");
    println!("|---|---|---|---|");
    for (k, what) in ["recompressed (JPEG q75)", "resized to 75 %", "cropped (status and input bars)"].iter().enumerate() {
        println!("| {what} | {} | {} | {} |", pct(reuse[k].0), pct(reuse[k].1), pct(reuse[k].2));
    }
    // Different chats the text calls the same (the renderer draws from five lines per language,
    // so two chats with one contact can differ only in their date and times).
    let mut text_pairs = Vec::new();
    for i in 0..originals.len() {
        for j in i + 1..originals.len() {
            let (a, b) = (&originals[i], &originals[j]);
            if let Some(sim) = same_chat(&a.1, a.2.as_deref(), &b.1, b.2.as_deref()) {
                text_pairs.push(format!("{} ~ {} (Jaccard {sim:.2})", a.0, b.0));
            }
        }
    }
    println!("\n| pairs of different chats | called the same chat by their text |");
    println!("|---|---|");
    println!("| {} | {} |", originals.len() * (originals.len() - 1) / 2, text_pairs.len());
    for p in text_pairs.iter().take(10) {
        println!("- {p}");
    }
    if !misses.is_empty() {
        println!("\nDisagreements:");
        for m in misses {
            println!("- {m}");
        }
    }
}
