//! Keyset pagination: a page request and a page of results.

/// Keyset pagination: rows older than `before` (the cursor), newest first.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page of rows and the cursor of the next page, if there is one.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}
