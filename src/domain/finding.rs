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

impl Finding {
    /// What a rep may see of this finding. A reviewer sees which earlier visit and photo a copy
    /// or a templated summary matched; a rep sees only that a match exists (how near, how many,
    /// whether it was their own), never another rep's visit or photo ids.
    pub fn as_seen_by_rep(mut self) -> Finding {
        let kept: &[&str] = match self.code {
            FindingCode::PhotoReused => &["match", "policy"],
            FindingCode::SummaryTemplated => &["similarity", "same_rep", "policy"],
            _ => return self,
        };
        let matches = self.evidence.get("earlier").and_then(|e| e.as_array()).map(Vec::len);
        if let serde_json::Value::Object(map) = &mut self.evidence {
            map.retain(|k, _| kept.contains(&k.as_str()));
            if let Some(n) = matches {
                map.insert("matches".into(), n.into());
            }
        }
        self.message_id = without_reference(&self.message_id);
        self.message_en = without_reference(&self.message_en);
        self
    }

    /// The other visits this finding names: those a copied photo was first used for, the one
    /// a templated summary matched.
    pub fn named_visits(&self) -> Vec<String> {
        let e = &self.evidence;
        let earlier = e.get("earlier").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|c| c.get("visit_id"));
        earlier.chain(e.get("similar_visit_id")).filter_map(|v| v.as_str().map(str::to_string)).collect()
    }

    /// What a reviewer whose scope does not reach the visits in `hidden` may see: a match with
    /// such a visit keeps what matched but neither its visit's nor its photo's id
    /// (`outside_scope: true`), and the message loses its reference. Nothing changes when the
    /// finding names none of them.
    pub fn without_visits(mut self, hidden: &std::collections::HashSet<String>) -> Finding {
        let is_hidden = |v: &serde_json::Value| {
            let named = v.get("visit_id").or_else(|| v.get("similar_visit_id")).and_then(|v| v.as_str());
            named.is_some_and(|id| hidden.contains(id))
        };
        let mut changed = false;
        if let Some(earlier) = self.evidence.get_mut("earlier").and_then(|v| v.as_array_mut()) {
            for copy in earlier.iter_mut().filter(|c| is_hidden(c)) {
                if let serde_json::Value::Object(map) = copy {
                    map.remove("visit_id");
                    map.remove("photo_id");
                    map.insert("outside_scope".into(), true.into());
                    changed = true;
                }
            }
        }
        if is_hidden(&self.evidence) {
            if let serde_json::Value::Object(map) = &mut self.evidence {
                map.remove("similar_visit_id");
                map.insert("outside_scope".into(), true.into());
                changed = true;
            }
        }
        if changed {
            self.message_id = without_reference(&self.message_id);
            self.message_en = without_reference(&self.message_en);
        }
        self
    }
}

/// A message without its closing reference: "… kunjungan lain (id, id)." → "… kunjungan lain."
fn without_reference(message: &str) -> String {
    if let Some(head) = message.strip_suffix(").").and_then(|m| m.rfind(" (").map(|i| &m[..i])) {
        format!("{head}.")
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rep_sees_that_a_copy_exists_but_not_whose() {
        let visit = uuid::Uuid::new_v4();
        let photo = uuid::Uuid::new_v4();
        let finding = Finding {
            code: FindingCode::PhotoReused,
            severity: Severity::Blocking,
            penalty: 40,
            photo_id: None,
            evidence: serde_json::json!({ "match": "exact", "earlier": [{ "photo_id": photo, "visit_id": visit, "exact": true }],
                                          "policy": { "photo.reuse_max_dhash_distance": 6 } }),
            message_id: format!("Foto yang sama persis sudah dipakai sebagai bukti kunjungan lain ({visit})."),
            message_en: format!("The very same photo was already used as evidence for another visit ({visit})."),
        };
        let seen = finding.as_seen_by_rep();
        let text = serde_json::to_string(&seen).unwrap();
        assert!(!text.contains(&visit.to_string()) && !text.contains(&photo.to_string()), "{text}");
        assert_eq!(seen.evidence["matches"], 1);
        assert_eq!(seen.evidence["match"], "exact");
        assert_eq!(seen.message_en, "The very same photo was already used as evidence for another visit.");
        let other = Finding { code: FindingCode::PhotoBlurry, ..seen.clone() };
        assert_eq!(other.clone().as_seen_by_rep(), other);
    }

    #[test]
    fn a_branch_reviewer_sees_the_matches_in_its_scope_by_id_and_the_others_as_such() {
        let (mine, theirs) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
        let finding = Finding {
            code: FindingCode::PhotoReused,
            severity: Severity::Blocking,
            penalty: 40,
            photo_id: None,
            evidence: serde_json::json!({ "match": "exact", "earlier": [{ "photo_id": "p1", "visit_id": mine, "exact": true },
                                                                      { "photo_id": "p2", "visit_id": theirs, "exact": true }] }),
            message_id: format!("Foto yang sama persis sudah dipakai sebagai bukti kunjungan lain ({mine}, {theirs})."),
            message_en: format!("The very same photo was already used as evidence for another visit ({mine}, {theirs})."),
        };
        assert_eq!(finding.named_visits(), [mine.clone(), theirs.clone()]);
        let hidden = std::collections::HashSet::from([theirs.clone()]);
        let seen = finding.clone().without_visits(&hidden);
        let text = serde_json::to_string(&seen).unwrap();
        assert!(text.contains(&mine) && text.contains("p1"), "{text}");
        assert!(!text.contains(&theirs) && !text.contains("p2"), "{text}");
        assert_eq!(seen.evidence["earlier"][1], serde_json::json!({ "exact": true, "outside_scope": true }));
        assert_eq!(finding.clone().without_visits(&std::collections::HashSet::new()), finding, "nothing hidden, nothing changes");
        let templated = Finding {
            code: FindingCode::SummaryTemplated,
            evidence: serde_json::json!({ "similar_visit_id": theirs, "similarity": 0.9, "same_rep": false }),
            message_en: format!("The summary is 90% the same as another earlier visit's ({theirs})."),
            ..finding
        };
        let seen = templated.without_visits(&hidden);
        assert_eq!(seen.evidence, serde_json::json!({ "similarity": 0.9, "same_rep": false, "outside_scope": true }));
        assert_eq!(seen.message_en, "The summary is 90% the same as another earlier visit's.");
    }

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
