//! `fieldproof check-photo [--kind KIND] [--json] FILE...`: the photo pipeline on local files,
//! one result per file; an unreadable file gives an `error` code and the command goes on.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};

use crate::app::photos::check_file_with;
use crate::domain::policy::Policy;
use crate::domain::visit::PhotoKind;

/// Checks each file and prints one line per file (JSON with `--json`).
pub fn run(kind: &str, tz: &str, as_json: bool, files: &[PathBuf]) -> anyhow::Result<()> {
    let kind = PhotoKind::parse(kind)
        .ok_or_else(|| anyhow::anyhow!("--kind must be with_customer, storefront, whatsapp_screenshot, call_log_screenshot or product"))?;
    let tz: chrono_tz::Tz = tz.parse().map_err(|_| anyhow::anyhow!("{tz:?} is not an IANA time zone"))?;
    let policy = Policy::default();
    let defaults = crate::config::MediaSettings::default();
    let ocr = crate::startup::detect_ocr(&defaults).ok();
    let mut out = std::io::stdout().lock();
    for file in files {
        let line = check_one(&policy, kind, tz, file, ocr.as_deref());
        if as_json {
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{}", human(&line))?;
        }
    }
    Ok(())
}

/// The JSON result for one file.
pub fn check_one(policy: &Policy, kind: PhotoKind, tz: chrono_tz::Tz, file: &PathBuf, ocr: Option<&crate::media::ocr::Tesseract>) -> Value {
    let name = file.display().to_string();
    let started = Instant::now();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return json!({ "file": name, "error": "file_unreadable", "detail": e.to_string() }),
    };
    let result = std::panic::catch_unwind(|| check_file_with(policy, &bytes, kind, tz, ocr));
    let elapsed_us = started.elapsed().as_micros() as u64;
    match result {
        Err(_) => json!({ "file": name, "error": "photo_unreadable", "elapsed_us": elapsed_us }),
        Ok(Err(e)) => json!({ "file": name, "error": e.code(), "detail": e.to_string(), "elapsed_us": elapsed_us }),
        Ok(Ok((inspection, facts, findings))) => {
            let exif = &inspection.exif;
            let taken_at = exif.datetime_original_parsed.map(|t| {
                let local = t.format("%Y-%m-%dT%H:%M:%S").to_string();
                match exif.offset_original {
                    Some(o) => format!("{local}{o}"),
                    None => local,
                }
            });
            let gps = exif.gps.map(|(lat, lon)| json!({ "lat": lat, "lon": lon, "alt": exif.gps_altitude_m }));
            json!({
                "file": name,
                "format": inspection.format.as_str(),
                "width": inspection.width,
                "height": inspection.height,
                "taken_at": taken_at,
                "gps": gps,
                "make": exif.make,
                "model": exif.model,
                "software": exif.software,
                "sources": { "time": exif.time_source, "gps": exif.gps_source },
                "quantisation": facts.quantisation,
                "iptc": facts.iptc,
                "decode_warnings": facts.decode_warnings,
                "chat": facts.chat,
                "findings": findings.iter().map(|f| json!({
                    "code": f.code.as_str(), "severity": f.severity, "penalty": f.penalty,
                    "message": f.message_en, "evidence": f.evidence,
                })).collect::<Vec<_>>(),
                "metrics": facts.pixels.map(|p| json!({
                    "brightness": (p.brightness * 10.0).round() / 10.0,
                    "centre_brightness": (p.centre_brightness * 10.0).round() / 10.0,
                    "surround_brightness": (p.surround_brightness * 10.0).round() / 10.0,
                    "blur": (p.sharpness * 10.0).round() / 10.0,
                    "faces": facts.faces,
                })),
                "elapsed_us": elapsed_us,
            })
        }
    }
}

/// One line per file, then each finding with its message and evidence, and the decoder's warnings.
fn human(v: &Value) -> String {
    let file = v["file"].as_str().unwrap_or("?");
    if let Some(code) = v["error"].as_str() {
        return format!("{file}: REFUSED {code}: {}", v["detail"].as_str().unwrap_or(""));
    }
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    let codes: Vec<&str> = findings.iter().filter_map(|f| f["code"].as_str()).collect();
    let mut text = format!(
        "{file}: {} {}×{} taken {} — {} ({} µs)",
        v["format"].as_str().unwrap_or("?"),
        v["width"],
        v["height"],
        v["taken_at"].as_str().unwrap_or("-"),
        if codes.is_empty() { "no findings".to_string() } else { codes.join(", ") },
        v["elapsed_us"]
    );
    for f in &findings {
        text.push_str(&format!(
            "\n  {} ({}): {}\n    evidence: {}",
            f["code"].as_str().unwrap_or("?"),
            f["severity"].as_str().unwrap_or("?"),
            f["message"].as_str().unwrap_or(""),
            f["evidence"]
        ));
    }
    for w in v["decode_warnings"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        text.push_str(&format!("\n  decoder warning: {w}"));
    }
    text
}
