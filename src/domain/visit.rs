//! Visits, their photos, verdicts and reviews.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::customer::GeoPoint;
use super::finding::Finding;
use super::ids::{BranchId, CustomerId, PhotoId, ReviewId, TaskId, UserId, VisitId};
use super::task::str_enum;

/// How the customer was contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    DoorVisit,
    Whatsapp,
    Phone,
}
str_enum!(Method { DoorVisit = "door_visit", Whatsapp = "whatsapp", Phone = "phone" });

/// Where a visit is in its life. `draft` until submitted; then the verdict's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    Draft,
    Compliant,
    Flagged,
    NonCompliant,
}
str_enum!(VisitStatus { Draft = "draft", Compliant = "compliant", Flagged = "flagged", NonCompliant = "non_compliant" });

/// The review state (the SOP's "Status Review HQ").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
    Flagged,
}
str_enum!(ReviewStatus { Pending = "pending", Approved = "approved", Rejected = "rejected", Flagged = "flagged" });

/// What a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoKind {
    WithCustomer,
    Storefront,
    WhatsappScreenshot,
    Product,
    /// The phone's call log showing the call to the customer (a phone follow-up's evidence).
    CallLogScreenshot,
}
str_enum!(PhotoKind {
    WithCustomer = "with_customer",
    Storefront = "storefront",
    WhatsappScreenshot = "whatsapp_screenshot",
    Product = "product",
    CallLogScreenshot = "call_log_screenshot",
});

impl PhotoKind {
    /// A capture of the phone's screen (a chat, a call log), not a camera photo: judged on its
    /// shape, never on camera time or place.
    pub fn is_screenshot(self) -> bool {
        matches!(self, PhotoKind::WhatsappScreenshot | PhotoKind::CallLogScreenshot)
    }
}

/// The two-level follow-up result (RULES.md §5), validated against the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultReason {
    pub level1: String,
    pub level2: String,
}

/// An answer to one of a result reason's detail questions (its kind is the question's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DetailValue {
    YesNo(bool),
    Number(f64),
    Text(String),
}

impl DetailValue {
    /// Whether it answers the question: any yes/no or number, a text that is not blank.
    pub fn is_answer(&self) -> bool {
        match self {
            DetailValue::Text(t) => !t.trim().is_empty(),
            DetailValue::YesNo(_) | DetailValue::Number(_) => true,
        }
    }
}

/// Everything the rep writes in a visit record. Parsed and validated at the edge; the same
/// content always serialises to the same JSON, which is what idempotent PUTs compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitContent {
    pub customer_id: CustomerId,
    pub task_id: Option<TaskId>,
    pub method: Method,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    pub visited_at: Option<DateTime<Utc>>,
    pub result_reason: Option<ResultReason>,
    /// Answers to the result reason's own detail questions, by question code. Left out of the
    /// JSON when empty, so records made before it keep their content hash.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reason_details: BTreeMap<String, DetailValue>,
    pub details: Option<String>,
    pub next_steps: Option<String>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    /// Answers to the standard questions, by question code.
    pub answers: BTreeMap<String, String>,
    pub refused: bool,
    pub refusal_reason: Option<String>,
    /// When (and where) the rep checked in and out at the customer, as the app recorded it.
    /// Left out of the JSON when absent, so records made before it keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance: Option<Attendance>,
}

/// A door visit's check-in and check-out (SOP ch. 3: 20–45 minutes at the customer, the record
/// filled in before leaving).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Attendance {
    pub check_in_at: DateTime<Utc>,
    pub check_out_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_out: Option<GeoPoint>,
}

impl VisitContent {
    /// Whether the rep answered "yes" to the detail question `question` ("Apakah perlu bantuan
    /// dari HQ?"): the visit then goes to HQ's queue for help.
    pub fn asks_for_help(&self, question: &str) -> bool {
        self.reason_details.get(question) == Some(&DetailValue::YesNo(true))
    }

    /// The fields a submit needs that are still empty.
    pub fn missing_for_submit(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        if self.visited_at.is_none() {
            missing.push("visited_at");
        }
        if self.refused {
            // A refusal is recorded with its reason; the rest of the record may be empty.
            return missing;
        }
        if blank(&self.contact_name) {
            missing.push("contact_name");
        }
        if self.result_reason.is_none() {
            missing.push("result_reason");
        }
        if blank(&self.details) {
            missing.push("details");
        }
        if blank(&self.summary) {
            missing.push("summary");
        }
        missing
    }
}

/// The verdict of a submitted visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub score: u32,
    pub status: VisitStatus,
}

/// A visit as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    pub id: VisitId,
    pub rep_id: UserId,
    pub branch_id: BranchId,
    pub content: VisitContent,
    /// The visit's date in the branch's time zone (from `visited_at`).
    pub visit_date: Option<NaiveDate>,
    pub status: VisitStatus,
    pub review_status: ReviewStatus,
    pub score: Option<u32>,
    /// Points deducted by reviewers, summed.
    pub deducted_points: u32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub revisit_task_id: Option<TaskId>,
    /// The rep asked for HQ's help in the record (a detail question's "yes"): in HQ's queue.
    pub needs_hq_help: bool,
    /// A flagged visit's review deadline (a branch day); the day close after it escalates it.
    pub review_due_date: Option<NaiveDate>,
    /// When the day close escalated the undecided flagged visit.
    pub review_escalated_at: Option<DateTime<Utc>>,
    /// The policy version the verdict used (`None`: the configured policy).
    pub policy_version: Option<uuid::Uuid>,
    /// SHA-256 of the canonical content: equal bodies have equal hashes.
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The phone app's own capture metadata for a photo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureMeta {
    pub captured_at: Option<DateTime<Utc>>,
    pub location: Option<GeoPoint>,
    pub accuracy_m: Option<f64>,
    pub is_mock_location: Option<bool>,
}

/// What was read from a photo's bytes. New fields default when older rows lack them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoFacts {
    pub format: String,
    pub width: u32,
    pub height: u32,
    /// EXIF DateTimeOriginal as written (`YYYY:MM:DD HH:MM:SS`).
    pub exif_datetime_original: Option<String>,
    /// EXIF OffsetTimeOriginal as written (`+07:00`).
    pub exif_offset: Option<String>,
    /// The capture instant: EXIF time with its offset, else with the offset implied by the GPS
    /// clock, else read in the branch's zone.
    pub exif_taken_at: Option<DateTime<Utc>>,
    /// How `exif_taken_at` got its zone: `exif_offset`, `gps_clock` or `branch_zone`.
    pub taken_at_zone_source: Option<String>,
    /// EXIF DateTime ("ModifyDate"), camera-local.
    pub exif_modify_date: Option<chrono::NaiveDateTime>,
    /// The GPS satellite clock (GPSDateStamp + GPSTimeStamp), UTC.
    pub gps_time: Option<DateTime<Utc>>,
    pub gps_altitude_m: Option<f64>,
    pub orientation: Option<u16>,
    /// PixelXDimension / PixelYDimension as the camera declared them.
    pub declared_width: Option<u32>,
    pub declared_height: Option<u32>,
    pub has_thumbnail: bool,
    /// XMP `xmp:CreatorTool` (or a PNG `Software` text).
    pub creator_tool: Option<String>,
    /// Tools in the XMP edit history.
    pub history_agents: Vec<String>,
    /// Photoshop / Camera Raw metadata blocks are present.
    pub adobe_metadata: bool,
    /// What the pixels measured (absent on photos stored before HEIF pixels were decoded).
    pub pixels: Option<PixelStats>,
    /// Frontal faces found (only counted for `with_customer` photos).
    pub faces: Option<u32>,
    /// 256-bit perceptual difference hash, hex (absent with the pixels).
    pub dhash: Option<String>,
    /// 64-bit average hash, hex: confirms a dHash match.
    pub ahash: Option<String>,
    pub exif_location: Option<GeoPoint>,
    /// GPSHPositioningError, when the camera wrote it.
    pub exif_gps_accuracy_m: Option<f64>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub software: Option<String>,
    /// Where the capture time came from: `exif`, or `xmp` when only the XMP packet had it.
    pub time_source: Option<String>,
    /// Where the camera GPS came from: `exif` or `xmp`.
    pub gps_source: Option<String>,
    /// The JPEG luminance quantisation table: `ijg:95` (the IJG standard table at that quality)
    /// or `other:<fingerprint>`.
    pub quantisation: Option<String>,
    /// An IPTC-NAA block is present (cameras and keyword tools write one; not an edit).
    pub iptc: bool,
    /// What the decoder warned of and decoded past.
    pub decode_warnings: Vec<String>,
    /// What OCR read of a WhatsApp screenshot (absent for other kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<ChatFacts>,
}

/// What OCR read of a WhatsApp screenshot: the chat's header, its dates, times and the two
/// sides' lines, and the whole text (searchable by HQ).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatFacts {
    /// `read`, `not_installed` (no OCR engine on the server) or `failed`.
    pub status: String,
    /// The engine and its version (`tesseract 5.3.0`).
    pub engine: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The header: the contact's saved name or number.
    pub header: Option<String>,
    pub dates: Vec<ChatDateFact>,
    /// Message times shown (`14:05`).
    pub times: Vec<String>,
    /// Lines of text on the customer's side (left) and the rep's (right).
    pub customer_lines: u32,
    pub rep_lines: u32,
    /// Words read with a confidence of 50 or more, and the mean confidence (0–100).
    pub confident_words: u32,
    pub mean_confidence: f64,
    /// Every line read, top to bottom.
    pub text: String,
    pub elapsed_ms: u64,
}

/// A date a chat shows: as shown, and what it means.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatDateFact {
    pub shown: String,
    /// `today`, `yesterday`, `weekday`, `day_month` or `date`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// 0 = Monday.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weekday: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_month: Option<(u32, u32)>,
}

impl PhotoFacts {
    /// The perceptual hashes as numbers (dHash bytes, aHash), when both were computed.
    pub fn perceptual_hashes(&self) -> Option<([u8; 32], u64)> {
        let dhash = hex::decode(self.dhash.as_deref()?).ok().and_then(|d| <[u8; 32]>::try_from(d).ok())?;
        let ahash = u64::from_str_radix(self.ahash.as_deref()?, 16).ok()?;
        Some((dhash, ahash))
    }
}

/// Brightness (0–255 luma), backlight and sharpness, measured on a reduced-scale grayscale
/// decode of fixed size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PixelStats {
    pub brightness: f64,
    pub centre_brightness: f64,
    pub surround_brightness: f64,
    /// Variance of the Laplacian: low means blurred.
    pub sharpness: f64,
}

/// A photo as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Photo {
    pub id: PhotoId,
    pub visit_id: VisitId,
    pub kind: PhotoKind,
    pub sha256: String,
    pub size_bytes: u64,
    pub content_type: String,
    pub storage_key: String,
    pub capture: CaptureMeta,
    pub facts: PhotoFacts,
    pub findings: Vec<Finding>,
    pub received_at: DateTime<Utc>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    Flag,
}
str_enum!(Decision { Approve = "approve", Reject = "reject", Flag = "flag" });

impl Decision {
    pub fn review_status(self) -> ReviewStatus {
        match self {
            Decision::Approve => ReviewStatus::Approved,
            Decision::Reject => ReviewStatus::Rejected,
            Decision::Flag => ReviewStatus::Flagged,
        }
    }
}

/// One review decision, kept forever.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub id: ReviewId,
    pub visit_id: VisitId,
    pub reviewer_id: UserId,
    pub decision: Decision,
    pub comment: Option<String>,
    pub deduct_points: u32,
    pub revisit_task_id: Option<TaskId>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn content() -> VisitContent {
        VisitContent {
            customer_id: CustomerId(Uuid::nil()),
            task_id: None,
            method: Method::DoorVisit,
            contact_name: Some("Bu Sari".into()),
            contact_position: None,
            contact_phone: None,
            visited_at: Some(Utc::now()),
            result_reason: Some(ResultReason { level1: "service".into(), level2: "pickup_late".into() }),
            reason_details: BTreeMap::new(),
            details: Some("d".into()),
            next_steps: None,
            next_follow_up_at: None,
            summary: Some("s".into()),
            answers: BTreeMap::new(),
            refused: false,
            refusal_reason: None,
            attendance: None,
        }
    }

    #[test]
    fn submit_needs_the_core_fields() {
        assert!(content().missing_for_submit().is_empty());
        let mut c = content();
        c.summary = Some("   ".into());
        c.visited_at = None;
        assert_eq!(c.missing_for_submit(), vec!["visited_at", "summary"]);
        let mut refused = content();
        refused.refused = true;
        refused.summary = None;
        refused.contact_name = None;
        assert!(refused.missing_for_submit().is_empty());
    }
}
