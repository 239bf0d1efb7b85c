//! The rules that turn evidence into findings, and findings into a verdict.
//!
//! Photo rules ([`photo`]) run at upload, so a rep can retake a bad photo on site, and run again
//! at submit against the final record; visit rules ([`visit`]) run at submit. Each rule is a
//! small function with a table test; the policy supplies every threshold, severity and penalty,
//! and each finding's evidence names the values it compared.

mod edits;
mod photo;
mod record;
pub mod summary;
mod visit;

use std::collections::BTreeSet;

pub use edits::{edit_signs, EditSign};
pub use photo::{near_match, photo_findings, resolve_capture_time, EarlierCopy, PhotoContext};
pub use record::{RecordFacts, SimilarSummary};
pub use visit::{required_kinds, visit_findings, SubmitFacts};

use super::customer::GeoPoint;
use super::finding::{Finding, FindingCode, Severity};
use super::ids::PhotoId;
use super::policy::Policy;
use super::visit::{Verdict, VisitStatus};

pub(crate) fn finding(
    policy: &Policy,
    code: FindingCode,
    photo_id: Option<PhotoId>,
    evidence: serde_json::Value,
    id: String,
    en: String,
) -> Finding {
    let rule = policy.rule(code);
    Finding { code, severity: rule.severity, penalty: rule.penalty, photo_id, evidence, message_id: id, message_en: en }
}

/// A visit-level finding with its rule from the policy (for callers outside the rules, such as
/// the day close).
pub fn finding_for(policy: &Policy, code: FindingCode, evidence: serde_json::Value, id: String, en: String) -> Finding {
    finding(policy, code, None, evidence, id, en)
}

/// The customer's place as the photo rules need it.
#[derive(Debug, Clone, Copy)]
pub struct Geofence {
    pub center: GeoPoint,
    pub radius_m: f64,
}

/// Score and status from findings. A code counts once toward the score however many photos
/// show it (a rep is not punished three times for one dead GPS), while every finding is listed.
pub fn verdict(findings: &[Finding]) -> Verdict {
    let mut counted = BTreeSet::new();
    let penalty: u32 = findings.iter().filter(|f| counted.insert(f.code)).map(|f| f.penalty).sum();
    let worst = findings.iter().map(|f| f.severity).max();
    let status = match worst {
        Some(Severity::Blocking) => VisitStatus::NonCompliant,
        Some(Severity::Major) => VisitStatus::Flagged,
        Some(Severity::Minor) | None => VisitStatus::Compliant,
    };
    Verdict { score: 100u32.saturating_sub(penalty), status }
}

/// A distance as people read it: metres up to a kilometre, then kilometres.
pub(crate) fn human_distance(metres: f64) -> String {
    if metres < 1_000.0 {
        format!("{metres:.0} m")
    } else if metres < 100_000.0 {
        format!("{:.1} km", metres / 1_000.0)
    } else {
        format!("{:.0} km", metres / 1_000.0)
    }
}

/// A duration as people read it.
pub(crate) fn human_minutes(minutes: i64) -> String {
    let m = minutes.abs();
    if m < 120 {
        format!("{m} min")
    } else if m < 48 * 60 {
        format!("{} h", m / 60)
    } else {
        format!("{} d", m / (24 * 60))
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests;
