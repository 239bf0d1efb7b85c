//! The statements of every area, written once: this module is compiled twice, as
//! `db::sqlite::sql` and `db::postgres::sql`, and `Db` is the backend of each copy. Where the
//! dialects differ, a statement uses a named fragment of [`Dialect`](crate::db::dialect::Dialect).

use super::Db;

mod audit;
mod calendar;
mod classes;
mod customers;
mod directory;
mod exports;
mod follow_ups;
mod intents;
mod jobs;
mod leads;
mod photos;
mod policies;
mod repo;
mod reviews;
mod scorecards;
mod sessions;
mod shared;
mod tasks;
mod visits;
mod webhooks;
