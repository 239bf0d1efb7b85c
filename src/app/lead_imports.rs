//! Leads from a CSV file, so a company can move from what it uses today: a HubSpot contacts
//! export, a Google Sheets CSV with the CRM SOP's columns, or FieldProof's own. The header
//! says which (see [`Columns::map`]); each row is entered as `PUT /v1/leads/{id}` enters one —
//! normalised, rated, checked for duplicates, distributed — under an id derived from the row
//! (HubSpot's Record ID, else the name with the phone and e-mail), so the same file twice
//! enters nothing twice. A bad row is reported with its line and code and the others are kept.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::leads::{self, LeadInput};
use super::{App, AppError};
use crate::domain::ids::{BranchId, LeadId};
use crate::domain::lead::Qualification;
use crate::domain::role::Actor;

/// Rows one file may hold.
pub const MAX_ROWS: usize = 50_000;
/// Errors and duplicates listed in a report; the rest are only counted.
const MAX_LISTED: usize = 1000;

/// Where a file came from, as its header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Hubspot,
    GoogleSheets,
    Fieldproof,
}

/// The column of each field, by the header's names (any case, surrounding spaces ignored).
#[derive(Debug, Default)]
struct Columns {
    record_id: Option<usize>,
    name: Option<usize>,
    first_name: Option<usize>,
    last_name: Option<usize>,
    company: Option<usize>,
    phone: Option<usize>,
    mobile: Option<usize>,
    email: Option<usize>,
    source: Option<usize>,
    need: Option<usize>,
    region: Option<usize>,
    product: Option<usize>,
    segment: Option<usize>,
    branch: Option<usize>,
    received: Option<usize>,
}

impl Columns {
    /// The header names each format uses. HubSpot's contacts export: Record ID, First Name, Last
    /// Name, Company Name, Phone Number, Mobile Phone Number, Email, Original Source (or Lead
    /// Source), Create Date, Message. The SOP's Google Sheet: Nama Klien, Perusahaan, Nomor
    /// Telepon, Email, Sumber Prospek, Ringkasan Kebutuhan Awal, and Tanggal, Wilayah, Produk,
    /// Segmen, Cabang when it has them. FieldProof's: the lead's own field names.
    fn map(header: &[String]) -> (Format, Columns) {
        let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
        let c = Columns {
            record_id: find(&["record id", "contact id", "hubspot id"]),
            name: find(&["name", "nama klien", "nama", "nama lengkap", "full name"]),
            first_name: find(&["first name"]),
            last_name: find(&["last name"]),
            company: find(&["company", "company name", "perusahaan", "nama perusahaan"]),
            phone: find(&["phone", "phone number", "nomor telepon", "no. telepon", "no telepon", "telepon", "no. hp", "no hp", "whatsapp"]),
            mobile: find(&["mobile phone number", "mobile phone"]),
            email: find(&["email", "e-mail", "email address"]),
            source: find(&["source", "sumber prospek", "sumber", "original source", "lead source", "original traffic source"]),
            need: find(&["need", "ringkasan kebutuhan awal", "kebutuhan awal", "kebutuhan", "message", "notes", "catatan"]),
            region: find(&["region", "wilayah", "city", "kota"]),
            product: find(&["product", "produk"]),
            segment: find(&["segment", "segmen", "industry", "industri"]),
            branch: find(&["branch", "cabang"]),
            received: find(&["received_at", "create date", "created date", "tanggal", "tanggal masuk", "tanggal diterima"]),
        };
        let format = if c.record_id.is_some() || c.first_name.is_some() {
            Format::Hubspot
        } else if header
            .iter()
            .any(|h| ["nama klien", "nama", "sumber prospek", "ringkasan kebutuhan awal", "nomor telepon"].contains(&h.as_str()))
        {
            Format::GoogleSheets
        } else {
            Format::Fieldproof
        };
        (format, c)
    }
}

/// One refused row.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    pub line: u64,
    pub code: String,
    pub reason: String,
}

/// A row entered that looks like a lead already there.
#[derive(Debug, Clone, Serialize)]
pub struct RowDuplicate {
    pub line: u64,
    pub lead_id: LeadId,
    pub duplicates: Vec<leads::Duplicate>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct LeadImportReport {
    pub format: Format,
    pub rows: u64,
    pub created: u64,
    /// Rows entered already (the same file again).
    pub unchanged: u64,
    pub rejected: u64,
    /// The first 1000 refused rows.
    pub errors: Vec<RowError>,
    /// The first 1000 rows entered that look like an existing lead, to merge.
    pub possible_duplicates: Vec<RowDuplicate>,
}

/// A date and time as the sources write them: ISO 8601 with a zone, `2024-01-15 10:20`
/// (HubSpot), `2024-01-15`, `15/01/2024` (Google Sheets in Indonesia) — without a zone, the
/// branch's local time.
fn parse_instant(text: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Some(at.with_timezone(&Utc));
    }
    let local = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
                .and_then(|d| d.and_hms_opt(9, 0, 0))
        })?;
    tz.from_local_datetime(&local).earliest().map(|at| at.with_timezone(&Utc))
}

fn cell(record: &csv::StringRecord, col: Option<usize>) -> Option<String> {
    col.and_then(|i| record.get(i)).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Reads the file's header and rows (at most [`MAX_ROWS`]) on a blocking thread.
async fn read(path: &Path) -> Result<(Vec<String>, Vec<(u64, Result<csv::StringRecord, String>)>), AppError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|e| AppError::internal(format!("opening the upload: {e}")))?;
        let mut csv = super::imports::csv_reader(std::io::BufReader::new(file));
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| AppError::invalid("import_header_invalid", format!("the header cannot be read: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
            .collect();
        let mut rows = Vec::new();
        for record in csv.records() {
            if rows.len() == MAX_ROWS {
                return Err(AppError::invalid("import_too_many_rows", format!("a lead import holds at most {MAX_ROWS} rows")));
            }
            match record {
                Ok(r) => rows.push((r.position().map_or(0, |p| p.line()), Ok(r))),
                Err(e) => rows.push((e.position().map_or(0, |p| p.line()), Err(e.to_string()))),
            }
        }
        Ok((header, rows))
    })
    .await
    .map_err(|e| AppError::internal(format!("reading the upload: {e}")))?
}

/// `POST /v1/imports/leads`: marketing roles (branch marketing and supervisors into their own
/// branch; HQ and admin name it in a `branch` column).
pub async fn import_csv(app: &App, actor: &Actor, path: &Path) -> Result<LeadImportReport, AppError> {
    super::access::require(actor.role.is_marketing(), "imports are for marketing roles and admins")?;
    let (header, rows) = read(path).await?;
    let (format, cols) = Columns::map(&header);
    if cols.name.is_none() && cols.first_name.is_none() {
        return Err(AppError::invalid(
            "import_header_invalid",
            "the header names no lead name: `name` (FieldProof), `Nama Klien` (the SOP's sheet) or `First Name` (HubSpot)",
        ));
    }
    let branches: HashMap<String, (BranchId, chrono_tz::Tz)> =
        app.repo.list_branches().await?.into_iter().map(|b| (b.code.to_lowercase(), (b.id, b.time_zone))).collect();
    // A date without a zone is the row's branch's local time (the caller's branch, else WIB).
    let own_tz = match actor.branch_id {
        Some(b) => app.branch(b).await?.time_zone,
        None => chrono_tz::Asia::Jakarta,
    };
    let mut report =
        LeadImportReport { format, rows: 0, created: 0, unchanged: 0, rejected: 0, errors: Vec::new(), possible_duplicates: Vec::new() };
    let reject = |report: &mut LeadImportReport, line: u64, code: &str, reason: String| {
        report.rejected += 1;
        if report.errors.len() < MAX_LISTED {
            report.errors.push(RowError { line, code: code.to_string(), reason });
        }
    };
    for (line, record) in rows {
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let e = AppError::invalid("import_row_unreadable", e);
                reject(&mut report, line, e.code(), e.to_string());
                continue;
            }
        };
        let name = cell(&record, cols.name).or_else(|| {
            let full = [cell(&record, cols.first_name), cell(&record, cols.last_name)].into_iter().flatten().collect::<Vec<_>>().join(" ");
            (!full.is_empty()).then_some(full)
        });
        let Some(name) = name else {
            reject(&mut report, line, "field_required", "the row has no name".into());
            continue;
        };
        let (branch_id, tz) = match cell(&record, cols.branch) {
            Some(code) => match branches.get(&code.to_lowercase()) {
                Some((b, tz)) => (Some(*b), *tz),
                None => {
                    reject(&mut report, line, "branch_not_found", format!("no branch {code:?}"));
                    continue;
                }
            },
            None => (None, own_tz),
        };
        let received_at = match cell(&record, cols.received) {
            Some(t) => match parse_instant(&t, tz) {
                Some(at) => Some(at),
                None => {
                    reject(&mut report, line, "invalid_field", format!("{t:?} is not a date (YYYY-MM-DD, DD/MM/YYYY or ISO 8601)"));
                    continue;
                }
            },
            None => None,
        };
        let phone = cell(&record, cols.phone).or_else(|| cell(&record, cols.mobile));
        let email = cell(&record, cols.email);
        let key = match cell(&record, cols.record_id) {
            Some(id) => format!("hubspot:{id}"),
            None => format!(
                "row:{}|{}|{}",
                name.to_lowercase(),
                phone.clone().unwrap_or_default(),
                email.clone().unwrap_or_default().to_lowercase()
            ),
        };
        let id = LeadId(Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("fieldproof-lead-import:{key}").as_bytes()));
        let input = LeadInput {
            branch_id,
            name,
            company: cell(&record, cols.company),
            phone,
            email,
            source: cell(&record, cols.source).unwrap_or_else(|| match format {
                Format::Hubspot => "HubSpot".into(),
                Format::GoogleSheets => "Google Sheets".into(),
                Format::Fieldproof => "import".into(),
            }),
            need: cell(&record, cols.need).unwrap_or_else(|| "(not given in the import)".into()),
            region: cell(&record, cols.region),
            product: cell(&record, cols.product),
            segment: cell(&record, cols.segment),
            qualification: Qualification::default(),
            assignee_id: None,
            received_at,
            imported: true,
        };
        match leads::create(app, actor, id, input).await {
            Ok(saved) if saved.created => {
                report.created += 1;
                if !saved.duplicates.is_empty() && report.possible_duplicates.len() < MAX_LISTED {
                    report.possible_duplicates.push(RowDuplicate { line, lead_id: saved.lead.id, duplicates: saved.duplicates });
                }
            }
            Ok(_) => report.unchanged += 1,
            Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. } | AppError::NotFound { .. } | AppError::Forbidden { .. })) => {
                reject(&mut report, line, e.code(), e.to_string())
            }
            Err(e) => return Err(e),
        }
    }
    tracing::info!(?format, rows = report.rows, created = report.created, rejected = report.rejected, "leads imported");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(h: &str) -> Vec<String> {
        h.split(',').map(|s| s.trim().to_lowercase()).collect()
    }

    #[test]
    fn the_header_tells_the_format_and_the_columns() {
        let (f, c) = Columns::map(&header("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Create Date,Original Source"));
        assert_eq!(
            (f, c.record_id, c.first_name, c.phone, c.received, c.source),
            (Format::Hubspot, Some(0), Some(1), Some(4), Some(6), Some(7))
        );
        let (f, c) = Columns::map(&header("Nama Klien,Perusahaan,Nomor Telepon,Email,Sumber Prospek,Ringkasan Kebutuhan Awal"));
        assert_eq!((f, c.name, c.company, c.phone, c.need), (Format::GoogleSheets, Some(0), Some(1), Some(2), Some(5)));
        let (f, c) = Columns::map(&header("name,company,phone,email,source,need,branch"));
        assert_eq!((f, c.branch), (Format::Fieldproof, Some(6)));
    }

    #[test]
    fn dates_are_read_as_the_sources_write_them() {
        let jkt = chrono_tz::Asia::Jakarta;
        let at = |s: &str| parse_instant(s, jkt).map(|t| t.to_rfc3339());
        assert_eq!(at("2024-01-15 10:20").as_deref(), Some("2024-01-15T03:20:00+00:00"));
        assert_eq!(at("15/01/2024").as_deref(), Some("2024-01-15T02:00:00+00:00"));
        assert_eq!(at("2024-01-15T10:20:00Z").as_deref(), Some("2024-01-15T10:20:00+00:00"));
        assert_eq!(at("kemarin"), None);
    }
}
