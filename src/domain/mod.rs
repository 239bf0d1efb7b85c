//! Pure types and rules: ids, roles, customers, tasks, visits, findings, the policy and the
//! score. No I/O lives here; everything is deterministic given its inputs (time comes in as a
//! parameter), so each rule is tested as a table.

pub mod audit;
pub mod cadence;
pub mod classify;
pub mod customer;
pub mod directory;
pub mod export;
pub mod finding;
pub mod holiday;
pub mod ids;
pub mod lead;
pub mod page;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod reasons;
pub mod role;
pub mod rules;
pub mod task;
pub mod text;
pub mod time;
pub mod visit;
pub mod webhook;
