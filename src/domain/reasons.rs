//! The follow-up result taxonomy and the standard questions: data, not code.
//!
//! The shipped file is `data/result-reasons.json`; an operator may point the configuration at an
//! edited copy. Validation of a visit's reason pair and answer keys happens here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::visit::{DetailValue, ResultReason};

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
    pub reasons: Vec<Reason>,
}

/// A level-2 result with the detail questions the SOP asks for it (ch. 9, "Detail Follow Up"
/// and "Langkah Selanjutnya").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub code: String,
    pub label_id: String,
    pub label_en: String,
    #[serde(default)]
    pub details: Vec<DetailQuestion>,
}

/// What an answer to a detail question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailKind {
    Text,
    YesNo,
    Number,
}

/// One detail question of a result reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailQuestion {
    pub code: String,
    pub label_id: String,
    pub label_en: String,
    pub kind: DetailKind,
    #[serde(default = "yes")]
    pub required: bool,
    /// The SOP's "Langkah Selanjutnya" (next step) column rather than "Detail Follow Up".
    #[serde(default)]
    pub next_step: bool,
}

fn yes() -> bool {
    true
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
                let mut codes = std::collections::HashSet::new();
                if let Some(q) = reason.details.iter().find(|q| !codes.insert(&q.code)) {
                    return Err(format!("result reasons: {}/{} asks {} twice", level.code, reason.code, q.code));
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
        self.reason(level1, level2).is_some()
    }

    /// The level-2 reason `level1`/`level2`, when it is a known pair.
    pub fn reason(&self, level1: &str, level2: &str) -> Option<&Reason> {
        self.levels.iter().find(|l| l.code == level1)?.reasons.iter().find(|r| r.code == level2)
    }

    /// Checks a record's detail answers against its reason's questions: each names one of them
    /// and has its kind. Says what is wrong, for the rep.
    pub fn check_details(&self, reason: Option<&ResultReason>, details: &BTreeMap<String, DetailValue>) -> Result<(), String> {
        if details.is_empty() {
            return Ok(());
        }
        let Some(reason) = reason else {
            return Err("reason_details need a result_reason".into());
        };
        let questions = self.reason(&reason.level1, &reason.level2).map_or(&[][..], |r| &r.details[..]);
        for (code, value) in details {
            let Some(q) = questions.iter().find(|q| &q.code == code) else {
                return Err(format!("{code:?} is not a detail question of {}/{}", reason.level1, reason.level2));
            };
            let fits = matches!(
                (q.kind, value),
                (DetailKind::Text, DetailValue::Text(_))
                    | (DetailKind::YesNo, DetailValue::YesNo(_))
                    | (DetailKind::Number, DetailValue::Number(_))
            );
            if !fits {
                let kind = match q.kind {
                    DetailKind::Text => "a text",
                    DetailKind::YesNo => "true or false",
                    DetailKind::Number => "a number",
                };
                return Err(format!("reason_details.{code} must be {kind}"));
            }
        }
        Ok(())
    }

    /// What in the policy names a question this taxonomy lacks: a `visit.question_rules` key that
    /// is no standard or Lost-customer question, a `visit.hq_help_question` that is no yes/no
    /// detail question. Each problem is one line.
    pub fn check_policy(&self, policy: &super::policy::Policy) -> Vec<String> {
        let mut problems: Vec<String> = policy
            .visit
            .question_rules
            .keys()
            .filter(|q| !self.is_question(q))
            .map(|q| format!("policy.visit.question_rules: {q:?} is not a standard or Lost-customer question"))
            .collect();
        let help = &policy.visit.hq_help_question;
        let asked =
            self.levels.iter().flat_map(|l| &l.reasons).flat_map(|r| &r.details).any(|q| &q.code == help && q.kind == DetailKind::YesNo);
        if !asked {
            problems.push(format!("policy.visit.hq_help_question: {help:?} is not a yes/no detail question of any result reason"));
        }
        problems
    }

    /// The required detail questions of the record's reason that it leaves unanswered.
    pub fn missing_details<'a>(&'a self, reason: &ResultReason, details: &BTreeMap<String, DetailValue>) -> Vec<&'a DetailQuestion> {
        let Some(r) = self.reason(&reason.level1, &reason.level2) else { return Vec::new() };
        r.details.iter().filter(|q| q.required && !details.get(&q.code).is_some_and(DetailValue::is_answer)).collect()
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
        // Every level 2 has its own detail questions; the service ones ask whether HQ must help.
        assert!(t.levels.iter().flat_map(|l| &l.reasons).all(|r| !r.details.is_empty()));
        let pickup = t.reason("service", "pickup_late").unwrap();
        let hq = pickup.details.iter().find(|q| q.code == "needs_hq_help").unwrap();
        assert_eq!((hq.kind, hq.required, hq.next_step), (DetailKind::YesNo, true, true));
        assert!(!pickup.details.iter().find(|q| q.code == "waybill").unwrap().required);
    }

    #[test]
    fn detail_answers_are_checked_against_their_reason() {
        let t = Taxonomy::shipped();
        let cod = ResultReason { level1: "competition".into(), level2: "competitor_cod_faster".into() };
        let mut d = BTreeMap::new();
        d.insert("competitor_name".to_string(), DetailValue::Text("SiCepat".into()));
        d.insert("competitor_cod_days".to_string(), DetailValue::Number(2.0));
        assert_eq!(t.check_details(Some(&cod), &d), Ok(()));
        let missing: Vec<&str> = t.missing_details(&cod, &d).iter().map(|q| q.code.as_str()).collect();
        assert_eq!(missing, ["our_cod_days", "solution"]);
        d.insert("our_cod_days".to_string(), DetailValue::Text("seminggu".into()));
        assert_eq!(t.check_details(Some(&cod), &d), Err("reason_details.our_cod_days must be a number".into()));
        d.remove("our_cod_days");
        d.insert("needs_hq_help".to_string(), DetailValue::YesNo(true));
        assert!(t.check_details(Some(&cod), &d).unwrap_err().contains("not a detail question"));
        assert!(t.check_details(None, &d).is_err());
        assert_eq!(t.check_details(None, &BTreeMap::new()), Ok(()));
        // A blank text is no answer.
        let closed = ResultReason { level1: "customer".into(), level2: "shop_closed".into() };
        let blank = BTreeMap::from([("products".to_string(), DetailValue::Text("  ".into()))]);
        assert_eq!(t.missing_details(&closed, &blank).len(), 2);
    }

    #[test]
    fn the_policy_names_only_questions_the_taxonomy_has() {
        let t = Taxonomy::shipped();
        let mut policy = super::super::policy::Policy::default();
        assert!(t.check_policy(&policy).is_empty());
        policy.visit.question_rules.insert("favourite_colour".into(), policy.rule(super::super::finding::FindingCode::QuestionsUnanswered));
        policy.visit.hq_help_question = "cause".into();
        let problems = t.check_policy(&policy);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("favourite_colour") && problems[1].contains("cause"));
    }

    #[test]
    fn broken_files_are_refused() {
        assert!(Taxonomy::parse("{}").is_err());
        assert!(Taxonomy::parse(r#"{"levels":[],"questions":{"standard":[],"lost":[]}}"#).is_err());
    }
}
