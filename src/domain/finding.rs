//! Findings: what an evidence check found, with a stable code, a severity, a penalty, the
//! evidence it used and a message in Indonesian and English.

use serde::{Deserialize, Serialize};

use super::ids::PhotoId;

/// Every finding code of the catalogue in DESIGN.md. The snake_case names are a public
/// contract: once shipped they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    PhotoRequiredMissing,
    PhotoResolutionLow,
    PhotoNoTimestamp,
    PhotoNoGps,
    PhotoWrongDay,
    PhotoFarFromCustomer,
    PhotoEdited,
    PhotoTooDark,
    PhotoBacklit,
    PhotoBlurry,
    PhotoReused,
    PhotoTimeMismatch,
    PhotoMockLocation,
    PhotoNotAScreenshot,
    PhotoIsScreenshot,
    PhotoLocationMismatch,
    PhotosInconsistent,
    PhotoFacesMissing,
    UploadLate,
    VisitOutsideHours,
    MethodNotAllowed,
    SummaryTooShort,
    SummaryTemplated,
    SummaryMissingAspect,
    SummaryNotSpecific,
    ComplaintWithoutDetails,
    QuestionsUnanswered,
    RefusalWithoutReason,
    VisitNotConfirmed,
    CustomerLocationUnknown,
    VisitTooShort,
    VisitTooLong,
    CheckoutFarFromCustomer,
    RecordAfterCheckout,
    ReasonDetailsMissing,
    CallEvidenceMissing,
    PhotoPossiblyEdited,
    ScreenshotDateMismatch,
    ScreenshotContactMissing,
    ScreenshotOneSided,
    ScreenshotUnreadable,
    ScreenshotNotRead,
}

impl FindingCode {
    /// All codes, in catalogue order.
    pub const ALL: [FindingCode; 42] = [
        FindingCode::PhotoRequiredMissing,
        FindingCode::PhotoResolutionLow,
        FindingCode::PhotoNoTimestamp,
        FindingCode::PhotoNoGps,
        FindingCode::PhotoWrongDay,
        FindingCode::PhotoFarFromCustomer,
        FindingCode::PhotoEdited,
        FindingCode::PhotoTooDark,
        FindingCode::PhotoBacklit,
        FindingCode::PhotoBlurry,
        FindingCode::PhotoReused,
        FindingCode::PhotoTimeMismatch,
        FindingCode::PhotoMockLocation,
        FindingCode::PhotoNotAScreenshot,
        FindingCode::PhotoIsScreenshot,
        FindingCode::PhotoLocationMismatch,
        FindingCode::PhotosInconsistent,
        FindingCode::PhotoFacesMissing,
        FindingCode::UploadLate,
        FindingCode::VisitOutsideHours,
        FindingCode::MethodNotAllowed,
        FindingCode::SummaryTooShort,
        FindingCode::SummaryTemplated,
        FindingCode::SummaryMissingAspect,
        FindingCode::SummaryNotSpecific,
        FindingCode::ComplaintWithoutDetails,
        FindingCode::QuestionsUnanswered,
        FindingCode::RefusalWithoutReason,
        FindingCode::VisitNotConfirmed,
        FindingCode::CustomerLocationUnknown,
        FindingCode::VisitTooShort,
        FindingCode::VisitTooLong,
        FindingCode::CheckoutFarFromCustomer,
        FindingCode::RecordAfterCheckout,
        FindingCode::ReasonDetailsMissing,
        FindingCode::CallEvidenceMissing,
        FindingCode::PhotoPossiblyEdited,
        FindingCode::ScreenshotDateMismatch,
        FindingCode::ScreenshotContactMissing,
        FindingCode::ScreenshotOneSided,
        FindingCode::ScreenshotUnreadable,
        FindingCode::ScreenshotNotRead,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        // Kept equal to serde's names by the `names_match_serde_and_parse_back` test.
        Self::NAMES[self as usize]
    }

    const NAMES: [&'static str; 42] = [
        "photo_required_missing",
        "photo_resolution_low",
        "photo_no_timestamp",
        "photo_no_gps",
        "photo_wrong_day",
        "photo_far_from_customer",
        "photo_edited",
        "photo_too_dark",
        "photo_backlit",
        "photo_blurry",
        "photo_reused",
        "photo_time_mismatch",
        "photo_mock_location",
        "photo_not_a_screenshot",
        "photo_is_screenshot",
        "photo_location_mismatch",
        "photos_inconsistent",
        "photo_faces_missing",
        "upload_late",
        "visit_outside_hours",
        "method_not_allowed",
        "summary_too_short",
        "summary_templated",
        "summary_missing_aspect",
        "summary_not_specific",
        "complaint_without_details",
        "questions_unanswered",
        "refusal_without_reason",
        "visit_not_confirmed",
        "customer_location_unknown",
        "visit_too_short",
        "visit_too_long",
        "checkout_far_from_customer",
        "record_after_checkout",
        "reason_details_missing",
        "call_evidence_missing",
        "photo_possibly_edited",
        "screenshot_date_mismatch",
        "screenshot_contact_missing",
        "screenshot_one_sided",
        "screenshot_unreadable",
        "screenshot_not_read",
    ];

    pub fn parse(s: &str) -> Option<FindingCode> {
        Self::NAMES.iter().position(|n| *n == s).map(|i| Self::ALL[i])
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Major,
    /// Makes the visit non-compliant on its own.
    Blocking,
}

/// One finding, photo-level (with `photo_id`) or visit-level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    pub penalty: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_id: Option<PhotoId>,
    /// What the check measured and the threshold it compared against.
    pub evidence: serde_json::Value,
    pub message_id: String,
    pub message_en: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_parse_back() {
        for code in FindingCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json.as_str(), Some(code.as_str()));
            assert_eq!(FindingCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(FindingCode::parse("nope"), None);
    }
}
