//! Background jobs. The `jobs` table (migration 0001: states `queued`, `running`, `done`,
//! `dead`, and a unique key per job so periodic work enqueued by many instances never doubles)
//! is in place; the worker that claims jobs (`FOR UPDATE SKIP LOCKED` / `BEGIN IMMEDIATE`) and the
//! periodic enqueuer arrive with the scheduler and scale-out work. Nothing enqueues jobs yet.
