//! Photos: their rows, and the indexes that find an earlier copy (exact bytes) or a near
//! duplicate (perceptual hashes, see `hash_keys`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::RepoError;
use crate::domain::ids::{PhotoId, VisitId};
use crate::domain::role::Scope;
use crate::domain::visit::Photo;

/// Outcome of storing a photo row.
#[derive(Debug)]
pub enum PhotoInsert {
    Inserted,
    /// The photo id is taken; here is what it holds.
    Exists(Box<Photo>),
    /// The visit is no longer a draft.
    VisitNotDraft,
}

/// A stored photo's perceptual hashes, as a near-duplicate candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashCandidate {
    pub photo_id: PhotoId,
    pub visit_id: VisitId,
    pub dhash: [u8; 32],
    pub ahash: u64,
}

#[async_trait]
pub trait PhotoRepo: Send + Sync {
    /// Stores a photo row if its visit is still a draft and the id is free.
    async fn insert_photo(&self, photo: &Photo, at: DateTime<Utc>) -> Result<PhotoInsert, RepoError>;
    async fn get_photo(&self, id: PhotoId) -> Result<Option<Photo>, RepoError>;
    async fn list_photos(&self, visit: VisitId) -> Result<Vec<Photo>, RepoError>;
    /// Photos of other visits received before `before` whose perceptual hashes share at least
    /// one 16-bit chunk with `dhash` or `ahash` (the multi-index candidates; at most 2000).
    async fn hash_candidates(
        &self,
        dhash: &[u8; 32],
        ahash: u64,
        before: DateTime<Utc>,
        other_than: VisitId,
    ) -> Result<Vec<HashCandidate>, RepoError>;
    /// Screenshots of other visits received before `before` whose chat text shares a MinHash
    /// band with `band_keys`, the most bands first (at most `limit`).
    async fn similar_chats(
        &self,
        band_keys: &[i64],
        before: DateTime<Utc>,
        other_than: VisitId,
        limit: u32,
    ) -> Result<Vec<Photo>, RepoError>;
    /// Screenshots whose chat text contains `needle` (lowercase), newest first, of the visits
    /// `scope` sees.
    async fn search_chat_text(&self, needle: &str, scope: &Scope, limit: u32) -> Result<Vec<Photo>, RepoError>;
    /// Photos of other visits with the same bytes, received before `before` (at most 10).
    async fn earlier_copies(&self, sha256: &str, before: DateTime<Utc>, other_than: VisitId) -> Result<Vec<(PhotoId, VisitId)>, RepoError>;
}
