//! FieldProof: proves that field-sales visits happened and met the visit SOP.
//!
//! Layers (dependencies point downwards only):
//! `http → app → {domain, media, db, storage, jobs}`; `domain` and `media` depend on nothing
//! of ours. See `../shared/DESIGN.md`.

pub mod app;
pub mod check_photo;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod startup;
pub mod storage;
pub mod telemetry;
