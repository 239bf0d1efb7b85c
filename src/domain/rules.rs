//! The rules that turn evidence into findings, and findings into a verdict.
//!
//! Photo rules run at upload, so a rep can retake a bad photo on site; visit rules run at
//! submit. Each rule is a small function with its own table test; the policy supplies every
//! threshold, severity and penalty.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::customer::GeoPoint;
use super::finding::{Finding, FindingCode, Severity};
use super::ids::PhotoId;
use super::policy::Policy;
use super::time::end_of_local_day;
use super::visit::{CaptureMeta, Method, Photo, PhotoFacts, PhotoKind, Verdict, VisitStatus};

fn finding(policy: &Policy, code: FindingCode, photo_id: Option<PhotoId>, evidence: serde_json::Value, id: String, en: String) -> Finding {
    let rule = policy.rule(code);
    Finding { code, severity: rule.severity, penalty: rule.penalty, photo_id, evidence, message_id: id, message_en: en }
}

/// The customer's place as the photo rules need it.
#[derive(Debug, Clone, Copy)]
pub struct Geofence {
    pub center: GeoPoint,
    pub radius_m: f64,
}

/// Findings for one photo, from what was read from it and what the app said.
pub fn photo_findings(
    policy: &Policy,
    photo_id: PhotoId,
    kind: PhotoKind,
    facts: &PhotoFacts,
    capture: &CaptureMeta,
    geofence: Option<Geofence>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let id = Some(photo_id);

    let megapixels = f64::from(facts.width) * f64::from(facts.height) / 1_000_000.0;
    let min_mp = policy.photo.min_megapixels;
    if megapixels < min_mp {
        out.push(finding(
            policy,
            FindingCode::PhotoResolutionLow,
            id,
            json!({ "width": facts.width, "height": facts.height, "megapixels": round2(megapixels),
                    "policy": { "photo.min_megapixels": min_mp } }),
            format!("Resolusi foto {:.2} MP, minimal {min_mp} MP.", megapixels),
            format!("Photo resolution is {:.2} MP; at least {min_mp} MP is required.", megapixels),
        ));
    }

    // Screenshots never carry camera time or place; the chat's own timestamps are their evidence.
    if kind == PhotoKind::WhatsappScreenshot {
        return out;
    }

    if facts.exif_taken_at.is_none() && capture.captured_at.is_none() {
        out.push(finding(
            policy,
            FindingCode::PhotoNoTimestamp,
            id,
            json!({ "exif_datetime_original": null, "app_captured_at": null }),
            "Foto tidak memiliki waktu pengambilan (EXIF maupun aplikasi).".into(),
            "The photo has no capture time (neither EXIF nor the app's).".into(),
        ));
    }

    // Camera GPS first; the app's fix (with its accuracy) when the camera wrote none.
    let position = match (facts.exif_location, capture.location) {
        (Some(p), _) => Some((p, facts.exif_gps_accuracy_m.unwrap_or(0.0), "exif")),
        (None, Some(p)) => Some((p, capture.accuracy_m.unwrap_or(0.0), "app")),
        (None, None) => None,
    };
    match (position, geofence) {
        (None, _) => out.push(finding(
            policy,
            FindingCode::PhotoNoGps,
            id,
            json!({ "exif_gps": null, "app_gps": null }),
            "Foto tidak memiliki lokasi GPS (EXIF maupun aplikasi).".into(),
            "The photo has no GPS position (neither EXIF nor the app's).".into(),
        )),
        (Some((point, accuracy, source)), Some(fence)) => {
            let distance = point.distance_m(fence.center);
            // Give the rep the benefit of the fix's stated uncertainty, bounded so a
            // huge claimed accuracy cannot excuse any distance.
            let slack = accuracy.clamp(0.0, fence.radius_m.max(100.0));
            let allowed = fence.radius_m + slack;
            if distance > allowed {
                out.push(finding(
                    policy,
                    FindingCode::PhotoFarFromCustomer,
                    id,
                    json!({ "distance_m": distance.round(), "radius_m": fence.radius_m, "accuracy_m": slack,
                            "allowed_m": allowed.round(), "source": source,
                            "photo": { "latitude": point.latitude, "longitude": point.longitude },
                            "customer": { "latitude": fence.center.latitude, "longitude": fence.center.longitude } }),
                    format!("Foto diambil {} dari lokasi customer (batas {:.0} m).", human_distance(distance), allowed),
                    format!("The photo was taken {} from the customer (limit {:.0} m).", human_distance(distance), allowed),
                ));
            }
        }
        (Some(_), None) => {} // the customer has no registered location: nothing to compare
    }
    out
}

/// The photo kinds a method requires (RULES.md §4).
pub fn required_kinds(method: Method) -> &'static [PhotoKind] {
    match method {
        Method::DoorVisit => &[PhotoKind::WithCustomer, PhotoKind::Storefront],
        Method::Whatsapp => &[PhotoKind::WhatsappScreenshot],
        Method::Phone => &[],
    }
}

/// Facts about a visit that the visit rules need at submit time.
pub struct SubmitFacts<'a> {
    pub method: Method,
    pub refused: bool,
    pub visit_date: chrono::NaiveDate,
    pub branch_tz: Tz,
    pub submitted_at: DateTime<Utc>,
    pub photos: &'a [Photo],
}

/// Visit-level findings at submit, followed by every photo's own findings.
pub fn visit_findings(policy: &Policy, facts: &SubmitFacts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let present: BTreeSet<PhotoKind> = facts.photos.iter().map(|p| p.kind).collect();
    // A refused visit has no meeting to photograph; its evidence is the refusal itself.
    if !facts.refused {
        let missing: Vec<&str> =
            required_kinds(facts.method).iter().filter(|k| !present.contains(k)).map(|k| k.as_str()).collect();
        if !missing.is_empty() {
            out.push(finding(
                policy,
                FindingCode::PhotoRequiredMissing,
                None,
                json!({ "method": facts.method.as_str(), "missing_kinds": missing }),
                format!("Foto wajib belum diunggah: {}.", missing.join(", ")),
                format!("Required photos are missing: {}.", missing.join(", ")),
            ));
        }
    }

    let deadline = end_of_local_day(facts.visit_date, facts.branch_tz);
    if facts.submitted_at >= deadline {
        let late_minutes = (facts.submitted_at - deadline).num_minutes();
        out.push(finding(
            policy,
            FindingCode::UploadLate,
            None,
            json!({ "visit_date": facts.visit_date, "deadline": deadline, "submitted_at": facts.submitted_at,
                    "late_minutes": late_minutes, "time_zone": facts.branch_tz.name() }),
            format!("Record visit dikirim {late_minutes} menit setelah batas 24:00 ({}).", facts.branch_tz.name()),
            format!("The visit record came in {late_minutes} minutes after the 24:00 deadline ({}).", facts.branch_tz.name()),
        ));
    }

    out.extend(facts.photos.iter().flat_map(|p| p.findings.iter().cloned()));
    out
}

/// Score and status from findings. A code counts once toward the score however many photos
/// show it (a rep is not punished three times for one dead GPS), while every finding is listed.
pub fn verdict(findings: &[Finding]) -> Verdict {
    let mut counted = BTreeSet::new();
    let penalty: u32 =
        findings.iter().filter(|f| counted.insert(f.code)).map(|f| f.penalty).sum();
    let worst = findings.iter().map(|f| f.severity).max();
    let status = match worst {
        Some(Severity::Blocking) => VisitStatus::NonCompliant,
        Some(Severity::Major) => VisitStatus::Flagged,
        Some(Severity::Minor) | None => VisitStatus::Compliant,
    };
    Verdict { score: 100u32.saturating_sub(penalty), status }
}

/// A distance as people read it: metres up to a kilometre, then kilometres.
fn human_distance(metres: f64) -> String {
    if metres < 1_000.0 {
        format!("{metres:.0} m")
    } else if metres < 100_000.0 {
        format!("{:.1} km", metres / 1_000.0)
    } else {
        format!("{:.0} km", metres / 1_000.0)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests;
