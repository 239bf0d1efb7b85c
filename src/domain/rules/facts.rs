//! What the submit rules are given: the visit's facts and, with them, its written record's.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::customer::CustomerClass;
use crate::domain::ids::VisitId;
use crate::domain::reasons::Taxonomy;
use crate::domain::task::RequiredMethod;
use crate::domain::visit::{Method, Photo, VisitContent};

/// Facts about a visit that the visit rules need at submit time.
pub struct SubmitFacts<'a> {
    pub method: Method,
    pub refused: bool,
    pub visit_date: NaiveDate,
    pub branch_tz: Tz,
    pub submitted_at: DateTime<Utc>,
    /// The visit's photos, their findings judged against the final record.
    pub photos: &'a [Photo],
    /// The written record and what it is judged against; `None` judges the evidence alone.
    pub record: Option<RecordFacts<'a>>,
}

/// What the record rules need besides the evidence.
pub struct RecordFacts<'a> {
    pub content: &'a VisitContent,
    /// The customer's class when the visit is submitted.
    pub customer_class: CustomerClass,
    /// The level (A–F) before the customer became Lost or Lost Warning, when known.
    pub previous_level: Option<CustomerClass>,
    /// The method the visit's task requires, when the visit fulfils a task.
    pub task_method: Option<RequiredMethod>,
    /// When the visit's task was confirmed with the customer (H-1), if it was.
    pub task_confirmed_at: Option<DateTime<Utc>>,
    /// The customer's place and radius, when it has a place.
    pub geofence: Option<super::common::Geofence>,
    /// The result reasons, their detail questions and the standard questions.
    pub taxonomy: &'a Taxonomy,
    /// The most similar earlier summary found in the history, if any came close.
    pub earlier_summary: Option<SimilarSummary>,
}

/// An earlier summary and its Jaccard similarity to this one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarSummary {
    pub visit_id: VisitId,
    pub similarity: f64,
    pub same_rep: bool,
}
