//! What the console's templates show, made from the domain's records: words in the user's
//! language, times in the branch's zone, numbers rounded as a reviewer reads them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::i18n::Texts;
use crate::domain::directory::Locale;
use crate::domain::finding::{Finding, Severity};
use crate::domain::visit::{Decision, Photo, ReviewStatus, VisitStatus};

pub fn visit_status(t: &Texts, s: VisitStatus) -> &'static str {
    match s {
        VisitStatus::Draft => t.status_draft,
        VisitStatus::Compliant => t.status_compliant,
        VisitStatus::Flagged => t.status_flagged,
        VisitStatus::NonCompliant => t.status_non_compliant,
    }
}

pub fn review_status(t: &Texts, s: ReviewStatus) -> &'static str {
    match s {
        ReviewStatus::Pending => t.review_pending,
        ReviewStatus::Approved => t.review_approved,
        ReviewStatus::Rejected => t.review_rejected,
        ReviewStatus::Flagged => t.review_flagged,
    }
}

pub fn decision(t: &Texts, d: Decision) -> &'static str {
    match d {
        Decision::Approve => t.decision_approve,
        Decision::Reject => t.decision_reject,
        Decision::Flag => t.decision_flag,
    }
}

/// One option of a filter's `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The options of a `<select>`, the current value selected.
pub fn choices(current: &str, options: impl IntoIterator<Item = (String, String)>) -> Vec<Choice> {
    options.into_iter().map(|(value, label)| Choice { selected: value == current, value, label }).collect()
}

/// One finding as the queue and the visit page list it.
pub struct FindingView {
    pub code: &'static str,
    pub severity: &'static str,
    /// `blocking`, `major`, `minor`: the badge's class.
    pub severity_class: &'static str,
    pub penalty: u32,
    pub message: String,
    /// What the check measured, compactly (`key: value`, …).
    pub evidence: String,
}

impl FindingView {
    pub fn new(t: &Texts, f: &Finding) -> FindingView {
        let (severity, severity_class) = match f.severity {
            Severity::Blocking => (t.severity_blocking, "blocking"),
            Severity::Major => (t.severity_major, "major"),
            Severity::Minor => (t.severity_minor, "minor"),
        };
        let message = if t.lang == Locale::Id.as_str() { f.message_id.clone() } else { f.message_en.clone() };
        FindingView { code: f.code.as_str(), severity, severity_class, penalty: f.penalty, message, evidence: evidence_text(&f.evidence) }
    }
}

/// `{"distance_m": 812.4, "limit_m": 100}` → `distance_m: 812.4 · limit_m: 100`. A list of
/// records (the earlier copies of a reused photo) reads as its length, a nested record as its
/// own pairs, and a long value is cut, so one finding stays a line or two.
pub fn evidence_text(v: &serde_json::Value) -> String {
    use serde_json::Value;
    fn value(v: &Value) -> String {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Array(items) if items.iter().any(Value::is_object) => format!("{} ×", items.len()),
            Value::Array(items) => items.iter().map(value).collect::<Vec<_>>().join(", "),
            Value::Object(map) => map.iter().map(|(k, v)| format!("{k} = {}", value(v))).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        };
        match text.char_indices().nth(80) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }
    match v {
        Value::Object(map) => map.iter().map(|(k, v)| format!("{k}: {}", value(v))).collect::<Vec<_>>().join(" · "),
        Value::Null => String::new(),
        other => value(other),
    }
}

/// A photo's thumbnail and the links to it.
pub struct PhotoView {
    pub id: String,
    pub thumb_url: String,
    pub full_url: String,
    pub alt: String,
}

impl PhotoView {
    pub fn new(p: &Photo) -> PhotoView {
        let base = format!("/hq/visits/{}/photos/{}", p.visit_id, p.id);
        PhotoView {
            id: p.id.to_string(),
            thumb_url: format!("{base}/thumbnail"),
            full_url: base,
            alt: format!("{} {}", p.kind.as_str(), p.id),
        }
    }
}

/// JSON to embed in a `<script type="application/json">`: `<`, `>` and `&` written as JSON
/// escapes, so no value (a customer's name) can end the element or open a comment in it.
pub fn script_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// An instant in the branch's zone, `2026-11-10 10:05 WIB`.
pub fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

pub fn optional(v: &Option<String>, t: &Texts) -> String {
    v.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| t.unknown.to_string())
}

/// Metres as a reviewer reads them: `85 m`, `1.2 km`.
pub fn distance(m: f64) -> String {
    if m < 1000.0 {
        format!("{m:.0} m")
    } else {
        format!("{:.1} km", m / 1000.0)
    }
}

/// The ownership and distribution-point filters as a console form sends them: `hq`, `agent` or
/// empty; a DP code, trimmed (at most 64 characters), or empty.
pub fn customer_slice(ownership: &str, dp: &str) -> (Option<crate::domain::customer::Ownership>, Option<String>) {
    let dp = dp.trim();
    (crate::domain::customer::Ownership::parse(ownership.trim()), (!dp.is_empty()).then(|| dp.chars().take(64).collect()))
}

/// A monthly AWB bound as a form sends it: empty, or a whole number ≥ 0 (else `400`).
pub fn volume(t: &'static Texts, field: &'static str, v: &str) -> Result<Option<i64>, super::session::ConsoleError> {
    super::session::ConsoleError::field(t, field, v, |s| s.parse::<i64>().ok().filter(|n| *n >= 0))
}

/// The ownership choices of a filter form.
pub fn ownership_choices(t: &Texts, selected: &str) -> Vec<Choice> {
    choices(
        selected,
        [(String::new(), t.any.to_string()), ("hq".into(), t.ownership_hq.to_string()), ("agent".into(), t.ownership_agent.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_reads_as_key_value_pairs() {
        let v = serde_json::json!({ "distance_m": 812.4, "limit_m": 100, "source": "exif" });
        assert_eq!(evidence_text(&v), "distance_m: 812.4 · limit_m: 100 · source: exif");
        assert_eq!(evidence_text(&serde_json::Value::Null), "");
        let reused = serde_json::json!({ "earlier": [{ "photo_id": "a" }, { "photo_id": "b" }], "policy": { "photo.x": 10 }, "kinds": ["storefront"] });
        assert_eq!(evidence_text(&reused), "earlier: 2 × · kinds: storefront · policy: photo.x = 10");
        assert!(evidence_text(&serde_json::json!({ "long": "x".repeat(200) })).ends_with('…'));
    }

    #[test]
    fn embedded_json_cannot_end_its_script() {
        let v = serde_json::json!({ "name": "Toko </script><script>alert(1)</script> <!-- & co" });
        let text = script_json(&v);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v, "still the same JSON");
    }

    #[test]
    fn distances_round_for_reading() {
        assert_eq!(distance(84.6), "85 m");
        assert_eq!(distance(1234.0), "1.2 km");
    }
}
