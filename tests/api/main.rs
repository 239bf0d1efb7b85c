//! Integration tests: the real server over HTTP, on SQLite and (with `DATABASE_URL`) on
//! PostgreSQL, with a fresh database and object store per test.

mod contract;
mod helpers;

mod customers_tasks;
mod errors;
mod health_auth;
mod photos;
mod pixels;
mod repo;
mod robustness;
mod reviews;
mod roles;
mod visits;
