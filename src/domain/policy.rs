//! The policy: every number of the SOP that the code uses, with the SOP's values as defaults.
//!
//! An operator changes the SOP without a rebuild: `policy.file` in the configuration names a TOML
//! file holding only the values that differ from these defaults (see `policy.example.toml`); it is
//! merged over them key by key, checked, and served at `GET /v1/policy`. Rules read thresholds only
//! from here, and a finding's evidence names the policy value it used.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::finding::{FindingCode, Severity};

/// Severity and penalty of one finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingRule {
    pub severity: Severity,
    pub penalty: u32,
}

/// Limits and thresholds for photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoPolicy {
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    /// Largest accepted width or height, checked from the header before any decode.
    pub max_side_px: u32,
    /// Largest accepted width × height, checked from the header before any decode.
    pub max_pixels: u64,
    /// Below this many megapixels a photo is `photo_resolution_low` (SOP ch. 6: 1 MP).
    pub min_megapixels: f64,
    /// How long collecting one upload may take, in seconds.
    pub upload_timeout_secs: u64,
    /// EXIF, app and GPS clocks may disagree by this much (`photo_time_mismatch`).
    pub time_tolerance_minutes: u32,
    /// A ModifyDate this long after DateTimeOriginal is a sign of editing.
    pub edit_modify_tolerance_minutes: u32,
    /// The camera's and the app's GPS may be this far apart, plus the app's accuracy.
    pub gps_agreement_m: f64,
    /// Photos of one visit taken further apart than this in time are `photos_inconsistent`.
    pub visit_max_spread_minutes: u32,
    /// … or further apart than this in space.
    pub visit_max_spread_m: f64,
    /// A screenshot's short side is at most this many pixels (phone screens).
    pub screenshot_max_short_side_px: u32,
    /// Mean luma (0–255) below this is `photo_too_dark`.
    pub dark_max_brightness: f64,
    /// Backlit: the frame at least this bright (luma) …
    pub backlit_min_surround: f64,
    /// … and this many times brighter than the centre.
    pub backlit_min_ratio: f64,
    /// Laplacian variance (at the fixed working size) below this is `photo_blurry`.
    pub blurry_max_sharpness: f64,
    /// Two photos whose 256-bit dHashes differ in at most this many bits (and whose average
    /// hashes agree) show the same picture. At most 15: the index finds every pair within 15.
    pub reuse_max_dhash_distance: u32,
    /// … and whose 64-bit average hashes differ in at most this many bits.
    pub reuse_max_ahash_distance: u32,
    /// Faces a `with_customer` photo must show (the rep and the customer); 0 switches the check off.
    pub faces_required: u32,
    /// Smallest face counted, in pixels of the reduced-scale image (≈ 1/8 of the photo).
    pub faces_min_px: u32,
    /// Cropped copies: average hashes within this many bits …
    pub reuse_crop_max_ahash_distance: u32,
    /// … and dHashes within this many (far below the ~128 of unrelated pictures).
    pub reuse_crop_max_dhash_distance: u32,
}

impl Default for PhotoPolicy {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            max_side_px: 16_384,
            max_pixels: 120_000_000,
            min_megapixels: 1.0,
            upload_timeout_secs: 60,
            time_tolerance_minutes: 30,
            edit_modify_tolerance_minutes: 60,
            gps_agreement_m: 300.0,
            visit_max_spread_minutes: 180,
            visit_max_spread_m: 1_000.0,
            screenshot_max_short_side_px: 1_600,
            dark_max_brightness: 45.0,
            backlit_min_surround: 170.0,
            backlit_min_ratio: 1.8,
            blurry_max_sharpness: 250.0,
            reuse_max_dhash_distance: 15,
            reuse_max_ahash_distance: 10,
            faces_required: 2,
            faces_min_px: 20,
            reuse_crop_max_ahash_distance: 6,
            reuse_crop_max_dhash_distance: 44,
        }
    }
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub photo: PhotoPolicy,
    /// Geofence radius for customers that have none of their own, in metres
    /// (RULES.md §2, interpretation: 150 m).
    pub default_geofence_radius_m: f64,
    /// A re-visit task is due this many working days after the failed visit's date.
    pub revisit_due_working_days: u32,
    /// Severity and penalty per finding code.
    pub findings: BTreeMap<FindingCode, FindingRule>,
}

impl Default for Policy {
    fn default() -> Self {
        use FindingCode::*;
        use Severity::*;
        let table: [(FindingCode, Severity, u32); 28] = [
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
        ];
        Self {
            photo: PhotoPolicy::default(),
            default_geofence_radius_m: 150.0,
            revisit_due_working_days: 3,
            findings: table
                .into_iter()
                .map(|(code, severity, penalty)| (code, FindingRule { severity, penalty }))
                .collect(),
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
        self.findings
            .get(&code)
            .copied()
            .unwrap_or(FindingRule { severity: Severity::Minor, penalty: 0 })
    }

    /// Checks that the numbers make sense; each problem is one line.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
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
        let example = include_str!("../../policy.example.toml");
        assert_eq!(Policy::from_toml(example).unwrap(), Policy::default());
        for key in serde_json::to_value(PhotoPolicy::default()).unwrap().as_object().unwrap().keys() {
            assert!(example.contains(&format!("\n{key} =")), "policy.example.toml lacks photo.{key}");
        }
        for code in FindingCode::ALL {
            assert!(example.contains(&format!("[findings.{}]", code.as_str())), "policy.example.toml lacks {code:?}");
        }
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
