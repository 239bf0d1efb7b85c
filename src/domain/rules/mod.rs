//! The rules that turn evidence into findings, and findings into a verdict.
//!
//! Photo rules ([`photo`]) run at upload, so a rep can retake a bad photo on site, and run again
//! at submit against the final record; visit rules ([`visit`]) run at submit. Each rule is a
//! small function with a table test; the policy supplies every threshold, severity and penalty,
//! and each finding's evidence names the values it compared.

mod common;
mod edits;
mod facts;
mod photo;
mod record;
pub mod screenshot;
pub mod summary;
mod visit;

use std::collections::BTreeSet;

pub use common::{finding_for, Geofence};
pub use edits::{edit_signs, EditSign};
pub use facts::{RecordFacts, SimilarSummary, SubmitFacts};
pub use photo::{near_match, photo_findings, resolve_capture_time, EarlierCopy, PhotoContext};
pub use visit::{required_kinds, visit_findings};

use super::finding::{Finding, Severity};
use super::visit::{Verdict, VisitStatus};

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

#[cfg(test)]
mod tests;
