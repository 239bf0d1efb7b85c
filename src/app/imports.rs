//! CSV imports of customers and shipment volumes, shared by the API and the CLI.
//!
//! The file is read in a blocking thread with the `csv` crate and handed over in batches of
//! [`BATCH`] rows through a bounded channel, so memory stays flat whatever the file's size; each
//! batch is validated row by row and written in one transaction. A bad row is reported with its
//! line number and reason and the good rows are kept. Rows are upserts (customers by code, volumes
//! by customer and date) that leave equal rows alone, so the same file twice changes nothing.
//!
//! Customers: `code,name,type,branch,rep,lat,lon,radius,contact,created` (branch by code, rep by
//! user id or unique name, `created` as YYYY-MM-DD). Volumes: `customer_code,date,awb`.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::{App, AppError};
use crate::db::UpsertCounts;
use crate::domain::customer::{Customer, CustomerClass, GeoPoint};
use crate::domain::directory::Branch;
use crate::domain::ids::{BranchId, CustomerId, UserId};
use crate::domain::role::{Actor, Role};

/// Rows per batch (one transaction each).
pub const BATCH: usize = 2000;
/// Errors listed in a report; the rest are only counted.
const MAX_LISTED_ERRORS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Customers,
    Volumes,
}

/// One refused row.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// The first 1000 refused rows.
    pub errors: Vec<RowError>,
}

impl ImportReport {
    fn add(&mut self, c: UpsertCounts) {
        self.created += c.created;
        self.updated += c.updated;
        self.unchanged += c.unchanged;
    }

    fn reject(&mut self, line: u64, reason: impl Into<String>) {
        self.rejected += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(RowError { line, reason: reason.into() });
        }
    }
}

const CUSTOMER_HEADER: [&str; 10] = ["code", "name", "type", "branch", "rep", "lat", "lon", "radius", "contact", "created"];
const VOLUME_HEADER: [&str; 3] = ["customer_code", "date", "awb"];

/// Imports a CSV file. `actor` is the API caller (`None` for the CLI, which may write every
/// branch); `progress` is called after every batch.
pub async fn import_file(
    app: &App,
    actor: Option<&Actor>,
    kind: ImportKind,
    path: &Path,
    progress: &(dyn Fn(&ImportReport) + Send + Sync),
) -> Result<ImportReport, AppError> {
    super::access::require(actor.is_none_or(|a| a.role.is_marketing()), "imports are for marketing roles and admins")?;
    let file = std::fs::File::open(path).map_err(|e| AppError::internal(format!("opening the upload: {e}")))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<(u64, csv::StringRecord)>, String>>(2);
    let expected: Vec<&'static str> = match kind {
        ImportKind::Customers => CUSTOMER_HEADER.to_vec(),
        ImportKind::Volumes => VOLUME_HEADER.to_vec(),
    };
    let header_check = expected.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut csv = csv_reader(std::io::BufReader::with_capacity(256 * 1024, file));
        match csv.headers() {
            Ok(h) => {
                let got: Vec<String> = h.iter().map(|c| c.trim_start_matches('\u{feff}').to_lowercase()).collect();
                if got != header_check {
                    let _ = tx.blocking_send(Err(format!("the header must be `{}`, not `{}`", header_check.join(","), got.join(","))));
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(format!("the header cannot be read: {e}")));
                return;
            }
        }
        let mut batch = Vec::with_capacity(BATCH);
        let mut record = csv::StringRecord::new();
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    batch.push((line, std::mem::take(&mut record)));
                    if batch.len() == BATCH && tx.blocking_send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    // An unreadable record (bad UTF-8, unbalanced quotes): report it and go on.
                    let line = e.position().map_or(0, |p| p.line());
                    batch.push((line, csv::StringRecord::from(vec![format!("\u{0}{e}")])));
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(Ok(batch));
        }
    });
    let mut report = ImportReport::default();
    let mut ctx = Context::default();
    while let Some(batch) = rx.recv().await {
        let batch = batch.map_err(|e| AppError::invalid("import_header_invalid", e))?;
        report.rows += batch.len() as u64;
        match kind {
            ImportKind::Customers => customers_batch(app, actor, &mut ctx, &batch, &mut report).await?,
            ImportKind::Volumes => volumes_batch(app, actor, &mut ctx, &batch, &mut report).await?,
        }
        progress(&report);
    }
    reader.await.map_err(|e| AppError::internal(format!("the CSV reader failed: {e}")))?;
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}

/// Lookups kept across batches.
#[derive(Default)]
struct Context {
    branches: HashMap<String, Option<Branch>>,
    reps: HashMap<(BranchId, String), Result<UserId, String>>,
}

fn field(r: &csv::StringRecord, i: usize) -> &str {
    r.get(i).unwrap_or("")
}

/// Why a row cannot be read at all: the reader's own error (carried in a NUL-prefixed first
/// field), or a cell holding a control character (a NUL in a name is no customer's).
fn unreadable(r: &csv::StringRecord) -> Option<String> {
    if let Some(e) = r.get(0).and_then(|f| f.strip_prefix('\u{0}')) {
        return Some(format!("unreadable row: {e}"));
    }
    r.iter().position(|cell| !crate::domain::text::is_text(cell)).map(|i| format!("field {} holds a control character", i + 1))
}

/// A customer row's own fields (the branch and rep it names are looked up by the caller), or
/// why it is refused: code, name, type, branch code, rep, place, radius, contact, created.
#[allow(clippy::type_complexity)]
fn customer_fields(
    r: &csv::StringRecord,
) -> Result<(String, String, String, String, Option<String>, Option<GeoPoint>, Option<f64>, Option<String>, Option<NaiveDate>), String> {
    let text = |i: usize, name: &str, max: usize, required: bool| -> Result<Option<String>, String> {
        let v = field(r, i);
        match (v.is_empty(), v.chars().count() > max) {
            (true, _) if required => Err(format!("{name} is empty")),
            (true, _) => Ok(None),
            (false, true) => Err(format!("{name} is longer than {max} characters")),
            (false, false) => Ok(Some(v.to_string())),
        }
    };
    (|| -> Result<_, String> {
        let code = text(0, "code", 64, true)?.unwrap_or_default();
        let name = text(1, "name", 200, true)?.unwrap_or_default();
        let customer_type = text(2, "type", 64, true)?.unwrap_or_default();
        let branch_code = text(3, "branch", 64, true)?.unwrap_or_default();
        let rep = text(4, "rep", 200, false)?;
        let number = |i: usize, name: &str| -> Result<Option<f64>, String> {
            match field(r, i) {
                "" => Ok(None),
                v => v.parse::<f64>().ok().filter(|x| x.is_finite()).map(Some).ok_or_else(|| format!("{name} {v:?} is not a number")),
            }
        };
        let location = match (number(5, "lat")?, number(6, "lon")?) {
            (Some(lat), Some(lon)) => Some(GeoPoint::parse(lat, lon)?),
            (None, None) => None,
            _ => return Err("lat and lon go together".into()),
        };
        let radius = number(7, "radius")?;
        if radius.is_some_and(|x| !(x > 0.0 && x <= 50_000.0)) {
            return Err("radius must be above 0 and at most 50000".into());
        }
        let contact = text(8, "contact", 200, false)?;
        let created = match field(r, 9) {
            "" => None,
            v => Some(date_cell("created", v)?),
        };
        Ok((code, name, customer_type, branch_code, rep, location, radius, contact, created))
    })()
}

/// A volume row: customer code, date, AWB count, or why it is refused.
fn volume_row(r: &csv::StringRecord) -> Result<(String, NaiveDate, i64), String> {
    if r.len() != VOLUME_HEADER.len() {
        return Err(format!("{} fields, expected 3", r.len()));
    }
    let code = field(r, 0);
    if code.is_empty() {
        return Err("customer_code is empty".into());
    }
    let date = date_cell("date", field(r, 1))?;
    let awb = field(r, 2).parse::<i64>().map_err(|_| format!("awb {:?} is not a whole number", field(r, 2)))?;
    if awb < 0 {
        return Err("awb is negative".into());
    }
    Ok((code.to_string(), date, awb))
}

/// The reader every import uses: flexible row lengths (a short row is a row error), cells trimmed.
pub(super) fn csv_reader<R: std::io::Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input)
}

/// Reads `data` as an import of `kind` without a database: the header check, then each row
/// through the same parsers (the lookups of branches, reps and customers aside). How many rows
/// passed and how many were refused, or why the header was. The fuzz target's entry.
#[doc(hidden)]
pub fn parse_rows(kind: ImportKind, data: &[u8]) -> Result<(u64, u64), String> {
    let mut csv = csv_reader(data);
    let expected: &[&str] = match kind {
        ImportKind::Customers => &CUSTOMER_HEADER,
        ImportKind::Volumes => &VOLUME_HEADER,
    };
    let got: Vec<String> =
        csv.headers().map_err(|e| e.to_string())?.iter().map(|c| c.trim_start_matches('\u{feff}').to_lowercase()).collect();
    if got != expected {
        return Err("header".into());
    }
    let (mut passed, mut refused) = (0, 0);
    for record in csv.records() {
        let ok = match record {
            Ok(r) if unreadable(&r).is_none() => match kind {
                ImportKind::Customers => customer_fields(&r).is_ok(),
                ImportKind::Volumes => volume_row(&r).is_ok(),
            },
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            refused += 1;
        }
    }
    Ok((passed, refused))
}

/// A `YYYY-MM-DD` cell within the years a visit can have.
fn date_cell(name: &str, v: &str) -> Result<NaiveDate, String> {
    match v.parse::<NaiveDate>() {
        Ok(d) if crate::domain::time::plausible(d) => Ok(d),
        Ok(d) => {
            Err(format!("{name} {d} is outside the years {}–{}", crate::domain::time::YEARS.start(), crate::domain::time::YEARS.end()))
        }
        Err(_) => Err(format!("{name} {v:?} is not a date YYYY-MM-DD")),
    }
}

async fn customers_batch(
    app: &App,
    actor: Option<&Actor>,
    ctx: &mut Context,
    batch: &[(u64, csv::StringRecord)],
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let now = app.now();
    let mut rows: Vec<Customer> = Vec::with_capacity(batch.len());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, r) in batch {
        if let Some(e) = unreadable(r) {
            report.reject(*line, e);
            continue;
        }
        match customer_row(app, actor, ctx, r, now).await? {
            Ok(c) => {
                if let Some(first) = seen.insert(c.code.clone(), *line) {
                    report.reject(*line, format!("code {} already on line {first}", c.code));
                    continue;
                }
                rows.push(c);
            }
            Err(reason) => report.reject(*line, reason),
        }
    }
    report.add(app.repo.upsert_customers(&rows).await?);
    Ok(())
}

/// One customer row, or why it is refused.
async fn customer_row(
    app: &App,
    actor: Option<&Actor>,
    ctx: &mut Context,
    r: &csv::StringRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<Customer, String>, AppError> {
    if r.len() != CUSTOMER_HEADER.len() {
        return Ok(Err(format!("{} fields, expected {}", r.len(), CUSTOMER_HEADER.len())));
    }
    let parsed = customer_fields(r);
    let (code, name, customer_type, branch_code, rep, location, radius, contact, created) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    if !ctx.branches.contains_key(&branch_code) {
        let b = app.repo.branch_by_code(&branch_code).await?;
        ctx.branches.insert(branch_code.clone(), b);
    }
    let Some(branch) = ctx.branches[&branch_code].clone() else {
        return Ok(Err(format!("branch {branch_code:?} does not exist")));
    };
    if actor.is_some_and(|a| !a.can_see_branch(branch.id)) {
        return Ok(Err(format!("branch {branch_code} is not yours to import")));
    }
    let rep_id = match rep {
        None => None,
        Some(rep) => {
            let key = (branch.id, rep.clone());
            if !ctx.reps.contains_key(&key) {
                let found = find_rep(app, branch.id, &rep).await?;
                ctx.reps.insert(key.clone(), found);
            }
            match &ctx.reps[&key] {
                Ok(id) => Some(*id),
                Err(e) => return Ok(Err(e.clone())),
            }
        }
    };
    Ok(Ok(Customer {
        id: CustomerId(Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("customer:{code}").as_bytes())),
        code,
        name,
        customer_type,
        branch_id: branch.id,
        assigned_rep_id: rep_id,
        location,
        geofence_radius_m: radius,
        contact_name: contact,
        contact_position: None,
        contact_phone: None,
        created_on: created.unwrap_or_else(|| now.date_naive()),
        class: CustomerClass::New,
        previous_level: None,
        ownership: crate::domain::customer::Ownership::Hq,
        dp: None,
        created_at: now,
        updated_at: now,
    }))
}

/// A sales rep of the branch, by id or by a name unique in the branch.
async fn find_rep(app: &App, branch: BranchId, rep: &str) -> Result<Result<UserId, String>, AppError> {
    let candidates = match rep.parse::<Uuid>() {
        Ok(id) => app.repo.get_user(UserId(id)).await?.into_iter().collect(),
        Err(_) => app.repo.users_by_name(rep).await?,
    };
    let reps: Vec<_> = candidates.into_iter().filter(|u| u.role == Role::Sales && u.branch_id == Some(branch)).collect();
    Ok(match reps.as_slice() {
        [one] => Ok(one.id),
        [] => Err(format!("rep {rep:?} is not a sales rep of the branch")),
        _ => Err(format!("rep {rep:?} names several reps of the branch; use the id")),
    })
}

async fn volumes_batch(
    app: &App,
    actor: Option<&Actor>,
    _ctx: &mut Context,
    batch: &[(u64, csv::StringRecord)],
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let mut parsed: Vec<(u64, String, NaiveDate, i64)> = Vec::with_capacity(batch.len());
    for (line, r) in batch {
        if let Some(e) = unreadable(r) {
            report.reject(*line, e);
            continue;
        }
        match volume_row(r) {
            Ok((code, date, awb)) => parsed.push((*line, code, date, awb)),
            Err(e) => report.reject(*line, e),
        }
    }
    let mut codes: Vec<String> = parsed.iter().map(|p| p.1.clone()).collect();
    codes.sort();
    codes.dedup();
    let ids = app.repo.customer_ids_by_code(&codes).await?;
    let mut visible: HashMap<CustomerId, bool> = HashMap::new();
    let mut rows = Vec::with_capacity(parsed.len());
    let mut seen: HashMap<(CustomerId, NaiveDate), u64> = HashMap::new();
    for (line, code, date, awb) in parsed {
        let Some(id) = ids.get(&code).copied() else {
            report.reject(line, format!("customer {code:?} does not exist"));
            continue;
        };
        if let Some(a) = actor.filter(|a| matches!(a.role, Role::BranchMarketing | Role::Supervisor)) {
            if let std::collections::hash_map::Entry::Vacant(slot) = visible.entry(id) {
                slot.insert(app.repo.get_customer(id).await?.is_some_and(|c| a.can_see_branch(c.branch_id)));
            }
            if !visible[&id] {
                report.reject(line, format!("customer {code} is not in your branch"));
                continue;
            }
        }
        if let Some(first) = seen.insert((id, date), line) {
            report.reject(line, format!("{code} {date} already on line {first}"));
            continue;
        }
        rows.push((id, date, awb));
    }
    report.add(app.repo.upsert_volumes(&rows).await?);
    Ok(())
}
