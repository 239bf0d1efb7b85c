//! The policy: every number of the SOP that the code uses, with the SOP's values as defaults.
//!
//! An operator changes the SOP without a rebuild: `policy.file` in the configuration names a TOML
//! file holding only the values that differ from these defaults (see `policy.example.toml`); it is
//! merged over them key by key, checked, and served at `GET /v1/policy`. Rules read thresholds only
//! from here, and a finding's evidence names the policy value it used.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::finding::{FindingCode, Severity};

mod sections;

pub use sections::*;

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub photo: PhotoPolicy,
    pub visit: VisitPolicy,
    pub summary: SummaryPolicy,
    pub classes: ClassPolicy,
    pub leads: LeadPolicy,
    /// Follow-up cadences by name: `quotation` (the quotation SOP's H+1 / H+3 / H+5),
    /// `after_service` (H+2 after a complaint resolved or a service delivered), and any a company
    /// adds.
    pub cadences: BTreeMap<String, super::cadence::Cadence>,
    /// A quotation's discount above this percentage needs the supervisor's approval before it
    /// is sent (quotation SOP: "Dilarang memberikan persetujuan diskon … tanpa izin dari
    /// Supervisor").
    pub max_discount_pct: f64,
    /// Geofence radius for customers that have none of their own, in metres
    /// (RULES.md §2, interpretation: 150 m).
    pub default_geofence_radius_m: f64,
    /// A re-visit task is due this many working days after the failed visit's date.
    pub revisit_due_working_days: u32,
    /// Severity and penalty per finding code.
    pub findings: BTreeMap<FindingCode, FindingRule>,
    /// Who may deduct points in a review: "Marketing HQ juga berhak untuk memberikan pemotongan
    /// poin" (SOP ch. 9) — HQ (and admin); branch marketing decides without deducting.
    pub deduction_roles: Vec<super::role::Role>,
}

impl Default for Policy {
    fn default() -> Self {
        use FindingCode::*;
        use Severity::*;
        let table: [(FindingCode, Severity, u32); 42] = [
            // A photo without time or place is invalid evidence (RULES.md §4 item 3).
            (PhotoRequiredMissing, Blocking, 40),
            (PhotoResolutionLow, Major, 10),
            (PhotoNoTimestamp, Blocking, 30),
            (PhotoNoGps, Blocking, 30),
            (PhotoWrongDay, Blocking, 30),
            (PhotoFarFromCustomer, Major, 20),
            (PhotoEdited, Blocking, 40),
            (PhotoTooDark, Major, 10),
            (PhotoBacklit, Major, 10),
            (PhotoBlurry, Major, 10),
            (PhotoReused, Blocking, 50),
            (PhotoTimeMismatch, Major, 15),
            (PhotoMockLocation, Blocking, 50),
            (PhotoNotAScreenshot, Major, 15),
            (PhotoIsScreenshot, Major, 15),
            (PhotoLocationMismatch, Major, 15),
            (PhotosInconsistent, Major, 15),
            (PhotoFacesMissing, Major, 15),
            // "A late upload lowers the visit's quality score" (RULES.md §4): a penalty, not a fail.
            (UploadLate, Major, 15),
            (VisitOutsideHours, Minor, 5),
            (MethodNotAllowed, Blocking, 40),
            (SummaryTooShort, Major, 10),
            (SummaryTemplated, Major, 20),
            (SummaryMissingAspect, Minor, 5),
            (SummaryNotSpecific, Minor, 5),
            (ComplaintWithoutDetails, Major, 10),
            (QuestionsUnanswered, Minor, 5),
            (RefusalWithoutReason, Major, 15),
            // "Wajib menghubungi customer minimal H-1" (SOP ch. 3 item 1): a planned door visit
            // confirmed with the customer the day before at the latest.
            (VisitNotConfirmed, Minor, 5),
            // Not the rep's fault: the customer has no registered place to measure against.
            // Shown to HQ (and proposing the place), costing nothing.
            (CustomerLocationUnknown, Minor, 0),
            // "Durasi kunjungan ideal: 20–45 menit" (SOP ch. 3 item 4): too short for its five
            // phases costs a little; too long costs the rep's day, not the customer: shown only.
            (VisitTooShort, Minor, 5),
            (VisitTooLong, Minor, 0),
            // Checked out away from the customer: the visit's own position contradicts it.
            (CheckoutFarFromCustomer, Major, 10),
            // "Isi Record Visit sebelum meninggalkan lokasi" (SOP ch. 3 item 6).
            (RecordAfterCheckout, Minor, 5),
            // "* Detail Follow Up" is a required field (SOP ch. 9): each result reason's own
            // questions, answered.
            (ReasonDetailsMissing, Minor, 5),
            // A phone follow-up's proof (issue 18: the call log or the chat). The SOP's attachment
            // list (ch. 6.1) makes only the door photos and the WhatsApp chat "wajib": flagged for
            // HQ's eye, not failed.
            (CallEvidenceMissing, Major, 15),
            // Weak signs of editing (a ModifyDate after capture, maker EXIF stripped, an unknown
            // Software): shown to HQ with the evidence, not failed — `photo_edited` must be certain.
            (PhotoPossiblyEdited, Major, 15),
            // A WhatsApp chat must show the visit's date (SOP ch. 6.3, 7).
            (ScreenshotDateMismatch, Major, 15),
            // The chat's header must name the customer's contact or number.
            (ScreenshotContactMissing, Major, 15),
            // A two-way conversation: the customer's answer shows on the chat.
            (ScreenshotOneSided, Major, 15),
            // Too little text read to judge the chat.
            (ScreenshotUnreadable, Major, 10),
            // OCR is not installed on this server: the chat's checks did not run — HQ looks, it is
            // not a pass.
            (ScreenshotNotRead, Major, 0),
        ];
        Self {
            photo: PhotoPolicy::default(),
            visit: VisitPolicy::default(),
            summary: SummaryPolicy::default(),
            classes: ClassPolicy::default(),
            leads: LeadPolicy::default(),
            cadences: BTreeMap::from([
                ("quotation".to_string(), super::cadence::quotation_default()),
                ("after_service".to_string(), super::cadence::after_service_default()),
            ]),
            max_discount_pct: 10.0,
            default_geofence_radius_m: 150.0,
            revisit_due_working_days: 3,
            findings: table.into_iter().map(|(code, severity, penalty)| (code, FindingRule { severity, penalty })).collect(),
            deduction_roles: vec![super::role::Role::Hq, super::role::Role::Admin],
        }
    }
}

impl Policy {
    /// The defaults with a TOML document merged over them key by key — a file may name one
    /// threshold or one finding's penalty alone — then checked. Every problem is one line: an
    /// unknown key, a value of the wrong type, a number out of range.
    pub fn from_toml(text: &str) -> Result<Policy, Vec<String>> {
        use figment::providers::{Format, Serialized, Toml};
        let policy: Policy = figment::Figment::from(Serialized::defaults(Policy::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| e.into_iter().map(|e| format!("policy: {e}")).collect::<Vec<_>>())?;
        policy.validate()?;
        Ok(policy)
    }

    /// The rule for a code; a code missing from a hand-edited policy counts as a minor 0.
    pub fn rule(&self, code: FindingCode) -> FindingRule {
        self.findings.get(&code).copied().unwrap_or(FindingRule { severity: Severity::Minor, penalty: 0 })
    }

    /// Checks that the numbers make sense; each problem is one line.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if let Some(r) = self.deduction_roles.iter().find(|r| !r.is_marketing()) {
            problems.push(format!("policy.deduction_roles: {} is not a marketing role (branch_marketing, hq, admin)", r.as_str()));
        }
        let p = &self.photo;
        if p.max_bytes == 0 {
            problems.push("policy.photo.max_bytes must be above 0".to_string());
        }
        if p.max_side_px == 0 || p.max_pixels == 0 {
            problems.push("policy.photo.max_side_px and max_pixels must be above 0".to_string());
        }
        if !(p.min_megapixels.is_finite() && p.min_megapixels >= 0.0) {
            problems.push("policy.photo.min_megapixels must be a number >= 0".to_string());
        }
        if p.reuse_max_dhash_distance > 15 {
            problems.push("policy.photo.reuse_max_dhash_distance must be at most 15 (the hash index guarantees no more)".to_string());
        }
        if p.upload_timeout_secs == 0 {
            problems.push("policy.photo.upload_timeout_secs must be above 0".to_string());
        }
        if !(self.default_geofence_radius_m.is_finite() && self.default_geofence_radius_m > 0.0) {
            problems.push("policy.default_geofence_radius_m must be above 0".to_string());
        }
        let v = &self.visit;
        if v.business_hours_start >= v.business_hours_end {
            problems.push("policy.visit.business_hours_start must be before business_hours_end".to_string());
        }
        if v.lunch_start > v.lunch_end {
            problems.push("policy.visit.lunch_start must not be after lunch_end".to_string());
        }
        let s = &self.summary;
        if !(s.templated_min_similarity > 0.0 && s.templated_min_similarity <= 1.0) {
            problems.push("policy.summary.templated_min_similarity must be in (0, 1]".to_string());
        }
        for (name, list) in [
            ("aspect_business", &s.aspect_business),
            ("aspect_complaints", &s.aspect_complaints),
            ("aspect_opportunities", &s.aspect_opportunities),
        ] {
            if list.iter().all(|w| w.trim().is_empty()) {
                problems.push(format!("policy.summary.{name} must name at least one word"));
            }
        }
        let c = &self.classes;
        let levels =
            [c.level_a_min_daily_awb, c.level_b_min_daily_awb, c.level_c_min_daily_awb, c.level_d_min_daily_awb, c.level_e_min_daily_awb];
        if levels.iter().any(|x| !x.is_finite() || *x < 0.0) || levels.windows(2).any(|w| w[0] <= w[1]) {
            problems.push("policy.classes.level_*_min_daily_awb must be numbers >= 0, A above B above C above D above E".to_string());
        }
        if !(c.lost_warning_drop > 0.0 && c.lost_warning_drop <= 1.0) {
            problems.push("policy.classes.lost_warning_drop must be in (0, 1]".to_string());
        }
        if c.min_days_into_month == 0 || c.min_days_into_month > 28 {
            problems.push("policy.classes.min_days_into_month must be 1..=28".to_string());
        }
        if let Some(bad) = c.lost_warning_door_levels.iter().find(|l| !["A", "B", "C", "D", "E", "F"].contains(&l.as_str())) {
            problems.push(format!("policy.classes.lost_warning_door_levels: {bad:?} is not a level A–F"));
        }
        let l = &self.leads;
        if l.first_contact_hours == 0 || l.first_contact_hours > 24 * 14 {
            problems.push("policy.leads.first_contact_hours must be 1..=336".to_string());
        }
        if !(12..=24).contains(&l.reactivation_after_months) {
            problems.push("policy.leads.reactivation_after_months must be 12..=24 (the SOP's 1–2 years)".to_string());
        }
        if !(l.duplicate_company_similarity > 0.5 && l.duplicate_company_similarity <= 1.0) {
            problems.push("policy.leads.duplicate_company_similarity must be in (0.5, 1]".to_string());
        }
        if l.lost_reasons.is_empty() || l.lost_reasons.iter().any(|r| r.trim().is_empty() || r.len() > 64) {
            problems.push("policy.leads.lost_reasons must name at least one reason of 1–64 characters".to_string());
        }
        if let Some(i) = l.distribution.iter().position(|r| r.assignees.is_empty()) {
            problems.push(format!("policy.leads.distribution[{i}] must name at least one assignee"));
        }
        if !(self.max_discount_pct.is_finite() && (0.0..=100.0).contains(&self.max_discount_pct)) {
            problems.push("policy.max_discount_pct must be 0..=100".to_string());
        }
        for required in ["quotation", "after_service"] {
            if !self.cadences.contains_key(required) {
                problems.push(format!("policy.cadences.{required} is required (its SOP's follow-up)"));
            }
        }
        for (name, c) in &self.cadences {
            if c.steps.is_empty() || c.steps.len() > 20 {
                problems.push(format!("policy.cadences.{name} needs 1 to 20 steps"));
            }
            if let Some(s) = c
                .steps
                .iter()
                .find(|s| s.offset_working_days > 60 || s.name.trim().is_empty() || s.name == crate::domain::cadence::CLOSING_MESSAGE)
            {
                problems.push(format!(
                    "policy.cadences.{name}: step {:?} needs a name (not closing_message) and an offset of 0–60 working days",
                    s.name
                ));
            }
            if c.on_hold_days > 366 {
                problems.push(format!("policy.cadences.{name}.on_hold_days must be at most 366"));
            }
        }
        for (code, rule) in &self.findings {
            if rule.penalty > 100 {
                problems.push(format!("policy.findings.{}.penalty must be 0..=100", code.as_str()));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_code_and_validate() {
        let policy = Policy::default();
        for code in FindingCode::ALL {
            assert!(policy.findings.contains_key(&code), "{code:?} has no default");
        }
        assert_eq!(policy.validate(), Ok(()));
    }

    #[test]
    fn a_file_names_only_what_differs_and_typos_are_refused() {
        let policy = Policy::from_toml(
            "default_geofence_radius_m = 200\n[photo]\ndark_max_brightness = 50.5\n[findings.photo_blurry]\npenalty = 4\n",
        )
        .unwrap();
        assert_eq!(policy.default_geofence_radius_m, 200.0);
        assert_eq!(policy.photo.dark_max_brightness, 50.5);
        assert_eq!(policy.photo.blurry_max_sharpness, PhotoPolicy::default().blurry_max_sharpness, "the rest stays");
        assert_eq!(policy.rule(FindingCode::PhotoBlurry), FindingRule { severity: Severity::Major, penalty: 4 });
        assert_eq!(policy.findings.len(), Policy::default().findings.len(), "other findings keep their rules");
        for (bad, says) in [
            ("[photo]\ndark_max_brightnes = 50", "dark_max_brightnes"),
            ("[findings.photo_blury]\npenalty = 4", "photo_blury"),
            ("[findings.photo_blurry]\nseverity = \"fatal\"", "fatal"),
            ("[photo]\nmax_bytes = \"big\"", "max_bytes"),
            ("[findings.photo_blurry]\npenalty = 400", "penalty must be 0..=100"),
            ("[photo\n", "policy"),
        ] {
            let problems = Policy::from_toml(bad).unwrap_err();
            assert!(problems.iter().any(|p| p.contains(says)), "{bad:?}: {problems:?}");
        }
    }

    #[test]
    fn the_example_file_is_the_defaults() {
        let example = include_str!("../../../policy.example.toml");
        assert_eq!(Policy::from_toml(example).unwrap(), Policy::default());
        let defaults = serde_json::to_value(Policy::default()).unwrap();
        for section in ["photo", "visit", "summary", "classes", "leads"] {
            for key in defaults[section].as_object().unwrap().keys() {
                assert!(example.contains(&format!("\n{key} =")), "policy.example.toml lacks {section}.{key}");
            }
        }
        for code in FindingCode::ALL {
            assert!(example.contains(&format!("[findings.{}]", code.as_str())), "policy.example.toml lacks {code:?}");
        }
        for name in Policy::default().cadences.keys() {
            assert!(example.contains(&format!("[cadences.{name}]")), "policy.example.toml lacks cadence {name}");
        }
    }

    #[test]
    fn clock_times_read_as_hh_mm() {
        let policy = Policy::from_toml("[visit]\nbusiness_hours_start = \"08:30\"\nbusiness_hours_end = \"24:00\"\n").unwrap();
        assert_eq!((policy.visit.business_hours_start.minutes(), policy.visit.business_hours_end.minutes()), (510, 1440));
        for bad in ["8:30", "24:01", "12:60", "noon", "08:30:00"] {
            let problems = Policy::from_toml(&format!("[visit]\nbusiness_hours_start = \"{bad}\"\n")).unwrap_err();
            assert!(problems.iter().any(|p| p.contains("HH:MM")), "{bad}: {problems:?}");
        }
        let problems = Policy::from_toml("[visit]\nbusiness_hours_start = \"18:00\"\n").unwrap_err();
        assert!(problems.iter().any(|p| p.contains("before business_hours_end")), "{problems:?}");
        let problems = Policy::from_toml("[classes]\nlevel_c_min_daily_awb = 400\nlost_warning_door_levels = [\"X\"]\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn nonsense_values_are_reported() {
        let mut policy = Policy::default();
        policy.photo.max_bytes = 0;
        policy.default_geofence_radius_m = -1.0;
        let problems = policy.validate().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
