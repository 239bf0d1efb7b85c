//! Integration tests: the real server over HTTP, on SQLite with photos on disk and (with
//! `DATABASE_URL`) on PostgreSQL with photos in Garage, with a fresh database and object store
//! per test.

mod browser;
mod cluster;
mod console;
mod contract;
mod garage;
mod helpers;

mod authorization;
mod customers_tasks;
mod day_close;
mod errors;
mod exports;
mod faults;
mod health_auth;
mod imports;
mod jobs;
mod layers;
mod leads;
mod migrations;
mod photos;
mod pipeline;
mod pixels;
mod policy_versions;
mod repo;
mod review_queue;
mod reviews;
mod robustness;
mod roles;
mod rules;
mod screenshots;
mod security;
mod storage;
mod variants;
mod visit_json;
mod visits;
mod webhooks;
