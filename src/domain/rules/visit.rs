//! Visit-level rules at submit: the evidence the method requires, the same-day deadline, and
//! whether the visit's photos belong together in time and space.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::common::{finding, human_distance, human_minutes};
use super::facts::SubmitFacts;
use crate::domain::finding::{Finding, FindingCode};
use crate::domain::policy::Policy;
use crate::domain::time::end_of_local_day;
use crate::domain::visit::{Method, Photo, PhotoKind};

/// The photo kinds a method requires (RULES.md §4; SOP ch. 6.1: both door-visit photos, the
/// chat's screenshot "jika via WA").
pub fn required_kinds(method: Method) -> &'static [PhotoKind] {
    match method {
        Method::DoorVisit => &[PhotoKind::WithCustomer, PhotoKind::Storefront],
        Method::Whatsapp => &[PhotoKind::WhatsappScreenshot],
        Method::Phone => &[],
    }
}

/// A phone follow-up's evidence, any one of them: the call log showing the call, or the chat
/// where a WhatsApp call or the follow-up message sits.
pub const CALL_EVIDENCE: [PhotoKind; 2] = [PhotoKind::CallLogScreenshot, PhotoKind::WhatsappScreenshot];

/// Visit-level findings at submit, followed by every photo's own findings.
pub fn visit_findings(policy: &Policy, facts: &SubmitFacts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let present: BTreeSet<PhotoKind> = facts.photos.iter().map(|p| p.kind).collect();
    // A refused visit has no meeting to photograph; its evidence is the refusal itself.
    if !facts.refused {
        let missing: Vec<&str> = required_kinds(facts.method).iter().filter(|k| !present.contains(k)).map(|k| k.as_str()).collect();
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
        if facts.method == Method::Phone && !CALL_EVIDENCE.iter().any(|k| present.contains(k)) {
            let accepted: Vec<&str> = CALL_EVIDENCE.iter().map(|k| k.as_str()).collect();
            out.push(finding(
                policy,
                FindingCode::CallEvidenceMissing,
                None,
                json!({ "method": "phone", "accepted_kinds": accepted, "policy": "phone_evidence" }),
                "Follow-up telepon tanpa bukti: unggah screenshot log panggilan atau percakapan WhatsApp.".into(),
                "A phone follow-up without evidence: upload a screenshot of the call log or the WhatsApp chat.".into(),
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
            format!("Record visit dikirim {} setelah batas 24:00 ({}).", human_minutes(late_minutes), facts.branch_tz.name()),
            format!("The visit record came in {} after the 24:00 deadline ({}).", human_minutes(late_minutes), facts.branch_tz.name()),
        ));
    }

    if let Some(f) = inconsistent(policy, facts.photos) {
        out.push(f);
    }
    if let Some(record) = &facts.record {
        out.extend(super::record::record_findings(policy, facts, record));
    }
    out.extend(facts.photos.iter().flat_map(|p| p.findings.iter().cloned()));
    out
}

/// Camera photos of one visit taken hours apart, or kilometres apart, do not show one visit.
fn inconsistent(policy: &Policy, photos: &[Photo]) -> Option<Finding> {
    let camera: Vec<&Photo> = photos.iter().filter(|p| !p.kind.is_screenshot()).collect();
    let times: Vec<DateTime<Utc>> = camera.iter().filter_map(|p| p.facts.exif_taken_at.or(p.capture.captured_at)).collect();
    let spread_minutes = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => (*b - *a).num_minutes(),
        _ => 0,
    };
    let points: Vec<_> = camera.iter().filter_map(|p| p.facts.exif_location.or(p.capture.location)).collect();
    let spread_m = points.iter().enumerate().flat_map(|(i, a)| points[i + 1..].iter().map(move |b| a.distance_m(*b))).fold(0.0, f64::max);
    let max_minutes = i64::from(policy.photo.visit_max_spread_minutes);
    let max_m = policy.photo.visit_max_spread_m;
    if spread_minutes <= max_minutes && spread_m <= max_m {
        return None;
    }
    Some(finding(
        policy,
        FindingCode::PhotosInconsistent,
        None,
        json!({ "time_spread_minutes": spread_minutes, "distance_spread_m": spread_m.round(),
                "policy": { "photo.visit_max_spread_minutes": max_minutes, "photo.visit_max_spread_m": max_m } }),
        format!("Foto-foto kunjungan ini berjarak {} dan {} satu sama lain.", human_minutes(spread_minutes), human_distance(spread_m)),
        format!("This visit's photos are {} and {} apart.", human_minutes(spread_minutes), human_distance(spread_m)),
    ))
}
