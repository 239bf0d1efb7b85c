//! Background jobs. The `jobs` table (migration 0001) is in place with a unique key per job so
//! periodic work can be enqueued by many instances without doubling; the worker that claims
//! jobs (`FOR UPDATE SKIP LOCKED` / `BEGIN IMMEDIATE`) and the periodic enqueuer arrive with the
//! scheduler and scale-out work. Nothing enqueues jobs yet.

/// The states a job row moves through.
pub const JOB_STATES: [&str; 4] = ["queued", "running", "done", "dead"];
