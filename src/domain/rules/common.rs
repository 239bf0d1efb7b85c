//! What every rule uses: the finding constructor (severity and penalty from the policy), the
//! customer's geofence, and numbers written as people read them.

use crate::domain::customer::GeoPoint;
use crate::domain::finding::{Finding, FindingCode};
use crate::domain::ids::PhotoId;
use crate::domain::policy::Policy;

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
