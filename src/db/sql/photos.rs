//! PhotoRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::Db;
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::hash_keys::{hash_keys, probe_keys};
use crate::db::photos::{HashCandidate, PhotoInsert, PhotoRepo};
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::ids::{PhotoId, VisitId};
use crate::domain::role::Scope;
use crate::domain::rules::screenshot::chat_band_keys;
use crate::domain::visit::Photo;

#[async_trait]
impl PhotoRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(photo_id = %p.id, visit_id = %p.visit_id))]
    async fn insert_photo(&self, p: &Photo, at: DateTime<Utc>) -> Result<PhotoInsert, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        // Locks the visit row (PostgreSQL) so a concurrent submit waits for this photo
        // or this photo sees the submit; SQLite's IMMEDIATE lock serialises the same way.
        let draft = sqlx::query("UPDATE visits SET updated_at = $2 WHERE id = $1 AND status = 'draft'")
            .bind(p.visit_id.0)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        let existing: Option<PhotoRow> =
            sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE id = $1")).bind(p.id.0).fetch_optional(&mut *tx).await?;
        if let Some(row) = existing {
            return Ok(PhotoInsert::Exists(Box::new(row.try_into()?)));
        }
        if !draft {
            return Ok(PhotoInsert::VisitNotDraft);
        }
        let inserted = sqlx::query(
            "INSERT INTO photos (id, visit_id, kind, sha256, size_bytes, content_type, storage_key, capture, facts, \
             findings, received_at, chat_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT DO NOTHING",
        )
        .bind(p.id.0)
        .bind(p.visit_id.0)
        .bind(p.kind.as_str())
        .bind(&p.sha256)
        .bind(i64::try_from(p.size_bytes).unwrap_or(i64::MAX))
        .bind(&p.content_type)
        .bind(&p.storage_key)
        .bind(Json(&p.capture))
        .bind(Json(&p.facts))
        .bind(Json(&p.findings))
        .bind(p.received_at)
        .bind(p.facts.chat.as_ref().filter(|c| !c.text.is_empty()).map(|c| c.text.to_lowercase()))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            // Lost a race for the same id: report what won.
            drop(tx);
            return match self.get_photo(p.id).await? {
                Some(existing) => Ok(PhotoInsert::Exists(Box::new(existing))),
                None => Err(RepoError::Conflict { constraint: "photos.id".into() }),
            };
        }
        // The object is referenced now: no longer the orphan sweep's business.
        sqlx::query("DELETE FROM object_intents WHERE storage_key = $1").bind(&p.storage_key).execute(&mut *tx).await?;
        let bands = p.facts.chat.as_ref().map(|c| chat_band_keys(&c.text)).unwrap_or_default();
        if !bands.is_empty() {
            let mut qb = QueryBuilder::<Db>::new("INSERT INTO chat_bands (band_key, photo_id) ");
            qb.push_values(&bands, |mut b, key| {
                b.push_bind(*key).push_bind(p.id.0);
            });
            qb.build().execute(&mut *tx).await?;
        }
        if let Some((dhash, ahash)) = p.facts.perceptual_hashes() {
            sqlx::query("INSERT INTO photo_hashes (photo_id, visit_id, received_at, dhash, ahash) VALUES ($1, $2, $3, $4, $5)")
                .bind(p.id.0)
                .bind(p.visit_id.0)
                .bind(p.received_at)
                .bind(dhash.to_vec())
                .bind(ahash as i64)
                .execute(&mut *tx)
                .await?;
            let mut keys = QueryBuilder::<Db>::new("INSERT INTO photo_hash_keys (key, photo_id) ");
            keys.push_values(hash_keys(&dhash, ahash), |mut row, key| {
                row.push_bind(key).push_bind(p.id.0);
            });
            keys.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(PhotoInsert::Inserted)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(photo_id = %id))]
    async fn get_photo(&self, id: PhotoId) -> Result<Option<Photo>, RepoError> {
        let row: Option<PhotoRow> =
            sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %visit))]
    async fn list_photos(&self, visit: VisitId) -> Result<Vec<Photo>, RepoError> {
        let rows: Vec<PhotoRow> = sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE visit_id = $1 ORDER BY seq"))
            .bind(visit.0)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %other_than))]
    async fn hash_candidates(
        &self,
        dhash: &[u8; 32],
        ahash: u64,
        before: DateTime<Utc>,
        other_than: VisitId,
    ) -> Result<Vec<HashCandidate>, RepoError> {
        // The probe keys travel as one JSON array parameter; `Db::KEY_SET` unpacks it in SQL.
        let keys = serde_json::to_string(&probe_keys(dhash, ahash)).unwrap_or_default();
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT photo_id, visit_id, dhash, ahash FROM photo_hashes WHERE photo_id IN (SELECT photo_id FROM photo_hash_keys WHERE ",
        );
        qb.push(Db::KEY_SET.0).push_bind(keys).push(Db::KEY_SET.1);
        qb.push(") AND received_at < ").push_bind(before);
        qb.push(" AND visit_id <> ").push_bind(other_than.0);
        qb.push(" LIMIT 2000");
        let rows: Vec<(Uuid, Uuid, Vec<u8>, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(p, v, d, a)| {
                Some(HashCandidate { photo_id: PhotoId(p), visit_id: VisitId(v), dhash: <[u8; 32]>::try_from(d).ok()?, ahash: a as u64 })
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn search_chat_text(&self, needle: &str, scope: &Scope, limit: u32) -> Result<Vec<Photo>, RepoError> {
        // LIKE with its wildcards escaped: the needle is matched as written.
        let pattern = format!("%{}%", needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let (visits, who) = match scope {
            Scope::All => ("", None),
            Scope::Branch(b) => (" AND visit_id IN (SELECT id FROM visits WHERE branch_id = $3)", Some(b.0)),
            Scope::Own(u) => (" AND visit_id IN (SELECT id FROM visits WHERE rep_id = $3)", Some(u.0)),
        };
        let sql = format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE chat_text LIKE $1 ESCAPE '\\'{visits} ORDER BY seq DESC LIMIT $2");
        let mut query = sqlx::query_as::<_, PhotoRow>(&sql).bind(pattern).bind(i64::from(limit));
        if let Some(id) = who {
            query = query.bind(id);
        }
        query.fetch_all(&self.pool).await?.into_iter().map(Photo::try_from).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %other_than))]
    async fn similar_chats(
        &self,
        band_keys: &[i64],
        before: DateTime<Utc>,
        other_than: VisitId,
        limit: u32,
    ) -> Result<Vec<Photo>, RepoError> {
        if band_keys.is_empty() {
            return Ok(Vec::new());
        }
        // The screenshots sharing the most bands first: the likeliest copies.
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {PHOTO_COLUMNS} FROM photos JOIN (SELECT photo_id, COUNT(*) AS hits FROM chat_bands WHERE band_key IN ("
        ));
        let mut keys = qb.separated(", ");
        for k in band_keys {
            keys.push_bind(*k);
        }
        qb.push(") GROUP BY photo_id) c ON c.photo_id = photos.id WHERE received_at < ").push_bind(before);
        qb.push(" AND visit_id <> ").push_bind(other_than.0);
        qb.push(" ORDER BY c.hits DESC LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<PhotoRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(Photo::try_from).collect()
    }

    async fn earlier_copies(&self, sha256: &str, before: DateTime<Utc>, other_than: VisitId) -> Result<Vec<(PhotoId, VisitId)>, RepoError> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT id, visit_id FROM photos WHERE sha256 = $1 AND received_at < $2 AND visit_id <> $3 ORDER BY seq LIMIT 10",
        )
        .bind(sha256)
        .bind(before)
        .bind(other_than.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p, v)| (PhotoId(p), VisitId(v))).collect())
    }
}
