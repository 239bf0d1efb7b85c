//! The follow-up result taxonomy and the standard questions: data, not code.
//!
//! The shipped file is `data/result-reasons.json`; an operator may point the configuration at an
//! edited copy. Validation of a visit's reason pair and answer keys happens here.

use serde::{Deserialize, Serialize};

/// The file shipped with the service.
pub const SHIPPED: &str = include_str!("../../data/result-reasons.json");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub code: String,
    pub label_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Level1 {
    pub code: String,
    pub label_id: String,
    pub label_en: String,
    pub reasons: Vec<Label>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Questions {
    pub standard: Vec<Label>,
    pub lost: Vec<Label>,
}

/// The taxonomy in force.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Taxonomy {
    pub levels: Vec<Level1>,
    pub questions: Questions,
}

impl Taxonomy {
    /// Parses a taxonomy file; an empty level list or duplicate codes are errors.
    pub fn parse(json: &str) -> Result<Taxonomy, String> {
        let taxonomy: Taxonomy = serde_json::from_str(json).map_err(|e| format!("result reasons: {e}"))?;
        if taxonomy.levels.is_empty() {
            return Err("result reasons: no level 1 reasons".into());
        }
        let mut seen = std::collections::HashSet::new();
        for level in &taxonomy.levels {
            for reason in &level.reasons {
                if !seen.insert((&level.code, &reason.code)) {
                    return Err(format!("result reasons: duplicate {}/{}", level.code, reason.code));
                }
            }
        }
        Ok(taxonomy)
    }

    /// The shipped taxonomy.
    pub fn shipped() -> Taxonomy {
        Taxonomy::parse(SHIPPED).expect("the shipped taxonomy is valid (tested)")
    }

    /// Whether `level1`/`level2` is a known pair.
    pub fn is_valid(&self, level1: &str, level2: &str) -> bool {
        self.levels.iter().any(|l| l.code == level1 && l.reasons.iter().any(|r| r.code == level2))
    }

    /// Whether `code` names a standard or a lost-customer question.
    pub fn is_question(&self, code: &str) -> bool {
        self.questions.standard.iter().chain(&self.questions.lost).any(|q| q.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_taxonomy_matches_the_sop() {
        let t = Taxonomy::shipped();
        assert_eq!(t.levels.len(), 4);
        assert_eq!(t.questions.standard.len(), 8);
        assert_eq!(t.questions.lost.len(), 5);
        let cases = [
            ("service", "pickup_late", true),
            ("competition", "competitor_cod_faster", true),
            ("customer", "shop_closed", true),
            ("service", "shop_closed", false),
            ("nope", "pickup_late", false),
        ];
        for (l1, l2, ok) in cases {
            assert_eq!(t.is_valid(l1, l2), ok, "{l1}/{l2}");
        }
        assert!(t.is_question("volume_plan"));
        assert!(t.is_question("lost_offer"));
        assert!(!t.is_question("favourite_colour"));
    }

    #[test]
    fn broken_files_are_refused() {
        assert!(Taxonomy::parse("{}").is_err());
        assert!(Taxonomy::parse(r#"{"levels":[],"questions":{"standard":[],"lost":[]}}"#).is_err());
    }
}
