//! Customers: read by everyone in their branch, written by marketing roles.

use super::{App, AppError};
pub use crate::db::CustomerFilter;
use crate::domain::customer::{Customer, PlaceProposal};
use crate::domain::ids::{BranchId, CustomerId, UserId};
use crate::domain::page::{Page, Paged};
use crate::domain::role::{Actor, Role};

fn require_marketing(actor: &Actor) -> Result<(), AppError> {
    super::access::require(actor.role.is_marketing(), "customers are managed by marketing roles")
}

/// A filter's customer, given as its id or its code: `None` for an empty text; a code no
/// customer has gives an id no row has, so the filter matches nothing.
pub async fn filter_id(app: &App, text: &str) -> Result<Option<CustomerId>, AppError> {
    Ok(match text.trim() {
        "" => None,
        code => match uuid::Uuid::parse_str(code) {
            Ok(id) => Some(CustomerId(id)),
            Err(_) => {
                Some(app.repo.customer_ids_by_code(&[code.to_string()]).await?.get(code).copied().unwrap_or(CustomerId(uuid::Uuid::nil())))
            }
        },
    })
}

pub async fn get(app: &App, actor: &Actor, id: CustomerId) -> Result<Customer, AppError> {
    super::access::visible_customer(app, actor, id).await
}

/// A customer's class history and volumes, for `GET /v1/customers/{id}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CustomerClassView {
    pub class_history: Vec<crate::domain::classify::ClassChange>,
    pub volumes: serde_json::Value,
}

/// The class story of a customer: every change with its reason, and the volumes the next
/// classification compares (in the branch's today).
pub async fn class_view(app: &App, c: &Customer) -> Result<CustomerClassView, AppError> {
    let branch = app.branch(c.branch_id).await?;
    let today = crate::domain::time::local_date(app.now(), branch.time_zone);
    let s = crate::domain::classify::spans(today);
    let sum = |from, to| app.repo.volume_sum(c.id, from, to);
    let last_month = sum(s.last_month.0, s.last_month.1).await?;
    let same_span = if s.elapsed == 0 { 0 } else { sum(s.last_month.0, s.same_span_end).await? };
    let month_to_date = if s.elapsed == 0 { 0 } else { sum(s.month_to_date.0, s.month_to_date.1).await? };
    let policy = super::policies::policy_now(app).await?;
    let classified = crate::domain::classify::classify(&policy.classes, &s, c.created_on, last_month, same_span, month_to_date);
    Ok(CustomerClassView { class_history: app.repo.class_history(c.id).await?, volumes: classified.reason })
}

pub async fn list(app: &App, actor: &Actor, mut filter: CustomerFilter, page: Page) -> Result<Paged<Customer>, AppError> {
    match actor.role {
        Role::Hq | Role::Admin => {}
        Role::Sales | Role::BranchMarketing | Role::Supervisor => {
            let own = actor.branch_id;
            if filter.branch_id.is_some() && filter.branch_id != own {
                return Ok(Paged { items: Vec::new(), next: None });
            }
            // Without a branch a user sees no branch's customers.
            filter.branch_id = Some(own.unwrap_or(BranchId(uuid::Uuid::nil())));
        }
    }
    Ok(app.repo.list_customers(&filter, page).await?)
}

/// The unique constraint on a customer's code.
const CODE_UNIQUE: &str = "customers.code";

async fn check_refs(app: &App, actor: &Actor, branch: BranchId, rep: Option<UserId>) -> Result<(), AppError> {
    if !actor.can_see_branch(branch) || app.repo.get_branch(branch).await?.is_none() {
        return Err(AppError::invalid("branch_not_found", format!("branch {branch} not found")));
    }
    if let Some(rep) = rep {
        match app.repo.get_user(rep).await? {
            Some(u) if u.role == Role::Sales && u.branch_id == Some(branch) => {}
            _ => return Err(AppError::invalid("rep_not_found", format!("no sales rep {rep} in the customer's branch"))),
        }
    }
    Ok(())
}

pub async fn create(app: &App, actor: &Actor, customer: Customer) -> Result<Customer, AppError> {
    require_marketing(actor)?;
    check_refs(app, actor, customer.branch_id, customer.assigned_rep_id).await?;
    match app.repo.insert_customer(&customer).await {
        Ok(()) => {}
        Err(e) if e.is_conflict_on(CODE_UNIQUE) => {
            return Err(AppError::conflict("customer_code_taken", format!("customer code {:?} is taken", customer.code)))
        }
        Err(e) => return Err(e.into()),
    }
    get(app, actor, customer.id).await
}

/// Applies `change` to the stored customer and saves it; the branch never changes here.
pub async fn update(app: &App, actor: &Actor, id: CustomerId, change: impl FnOnce(&mut Customer)) -> Result<Customer, AppError> {
    require_marketing(actor)?;
    let mut customer = get(app, actor, id).await?;
    change(&mut customer);
    customer.updated_at = app.now();
    check_refs(app, actor, customer.branch_id, customer.assigned_rep_id).await?;
    match app.repo.update_customer(&customer).await {
        Ok(()) => get(app, actor, id).await,
        Err(e) if e.is_conflict_on(CODE_UNIQUE) => {
            Err(AppError::conflict("customer_code_taken", format!("customer code {:?} is taken", customer.code)))
        }
        Err(e) => Err(e.into()),
    }
}

/// After an approved door visit: a customer without coordinates gets a place proposed — the
/// position of the visit's first camera photo that has one (the camera's GPS before the app's
/// fix; never a mock location). The first approved visit's proposal stands until branch
/// marketing accepts or rejects it. The photos are read (when not given) only for a customer
/// without a place. Returns whether one was stored.
pub(crate) async fn propose_place_from(
    app: &App,
    v: &crate::domain::visit::Visit,
    photos: Option<&[crate::domain::visit::Photo]>,
) -> Result<bool, AppError> {
    use crate::domain::visit::Method;
    if v.content.method != Method::DoorVisit {
        return Ok(false);
    }
    let Some(customer) = app.repo.get_customer(v.content.customer_id).await? else { return Ok(false) };
    if customer.location.is_some() {
        return Ok(false);
    }
    let read;
    let photos = match photos {
        Some(p) => p,
        None => {
            read = app.repo.list_photos(v.id).await?;
            &read[..]
        }
    };
    let place = photos.iter().filter(|p| !p.kind.is_screenshot() && p.capture.is_mock_location != Some(true)).find_map(|p| {
        match (p.facts.exif_location, p.capture.location) {
            (Some(at), _) => Some((p, at, None, "exif")),
            (None, Some(at)) => Some((p, at, p.capture.accuracy_m, "app")),
            (None, None) => None,
        }
    });
    let Some((photo, at, accuracy_m, source)) = place else { return Ok(false) };
    let proposal = PlaceProposal {
        customer_id: customer.id,
        latitude: at.latitude,
        longitude: at.longitude,
        accuracy_m,
        source: source.into(),
        visit_id: v.id,
        photo_id: photo.id,
        proposed_at: app.now(),
    };
    Ok(app.repo.propose_place(&proposal).await?)
}

/// The customer's pending place proposal (its branch's marketing, HQ, admin).
pub async fn place_proposal(app: &App, actor: &Actor, id: CustomerId) -> Result<PlaceProposal, AppError> {
    require_marketing(actor)?;
    get(app, actor, id).await?;
    app.repo
        .place_proposal(id)
        .await?
        .ok_or_else(|| AppError::not_found("place_proposal_not_found", format!("customer {id} has no proposed place")))
}

/// Accepts the proposal: the customer's coordinates become it (audited).
pub async fn accept_place(app: &App, actor: &Actor, id: CustomerId) -> Result<Customer, AppError> {
    place_proposal(app, actor, id).await?;
    let Some(p) = app.repo.accept_place(id, app.now()).await? else {
        return Err(AppError::not_found("place_proposal_not_found", format!("customer {id} has no proposed place")));
    };
    let entry = app.audit(actor, "customer.place_accepted", "customer", id.to_string(), serde_json::to_value(&p).unwrap_or_default());
    app.repo.append_audit(&entry).await?;
    get(app, actor, id).await
}

/// Rejects the proposal; the next approved door visit proposes again (audited).
pub async fn reject_place(app: &App, actor: &Actor, id: CustomerId) -> Result<(), AppError> {
    let p = place_proposal(app, actor, id).await?;
    if app.repo.reject_place(id).await? {
        let entry = app.audit(actor, "customer.place_rejected", "customer", id.to_string(), serde_json::to_value(&p).unwrap_or_default());
        app.repo.append_audit(&entry).await?;
    }
    Ok(())
}

/// What a rep reads before visiting a customer (SOP ch. 3 step 2, "Riset Data Customer"): the
/// last three months' volumes and this month's so far, the class and its changes, the service
/// complaints of the last 90 days, and the last visits by anyone — their record, never another
/// rep's photos or positions.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Research {
    pub customer_id: CustomerId,
    pub class: crate::domain::customer::CustomerClass,
    pub class_history: Vec<crate::domain::classify::ClassChange>,
    /// Oldest first: three full months, then the month so far.
    pub volumes: Vec<MonthVolume>,
    pub complaints: Vec<PastVisit>,
    pub last_visits: Vec<PastVisit>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MonthVolume {
    /// `YYYY-MM`.
    pub month: String,
    pub awb: i64,
    /// The month is not over yet.
    pub partial: bool,
}

/// A visit as the research view shows it: the record, no photos, no GPS.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PastVisit {
    pub visit_id: crate::domain::ids::VisitId,
    pub visit_date: Option<chrono::NaiveDate>,
    pub rep_name: Option<String>,
    pub method: crate::domain::visit::Method,
    pub status: crate::domain::visit::VisitStatus,
    pub review_status: crate::domain::visit::ReviewStatus,
    pub result_reason: Option<crate::domain::visit::ResultReason>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub next_steps: Option<String>,
    pub next_follow_up_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Visits a research view reads; the complaints are among them.
const RESEARCH_VISITS: u32 = 200;
/// How many of the last visits it lists.
const LAST_VISITS: usize = 5;

pub async fn research(app: &App, actor: &Actor, id: CustomerId) -> Result<Research, AppError> {
    use chrono::Datelike;
    let customer = get(app, actor, id).await?;
    let branch = app.branch(customer.branch_id).await?;
    let today = crate::domain::time::local_date(app.now(), branch.time_zone);
    let mut volumes = Vec::new();
    for back in (0..4).rev() {
        let total = today.year() * 12 + today.month0() as i32 - back;
        let Some(first) = chrono::NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1) else { continue };
        let month = first.format("%Y-%m").to_string();
        let (from, to) = super::scorecards::month_span(&month).unwrap_or((first, first));
        let to = to.min(today);
        volumes.push(MonthVolume { awb: app.repo.volume_sum(id, from, to).await?, partial: back == 0, month });
    }
    // Every rep's visits to this customer: the customer is in the actor's scope, and the
    // record is what the next visitor needs.
    let filter = crate::db::VisitFilter { customer_id: Some(id), ..crate::db::VisitFilter::any() };
    let visits = app.repo.list_visits(&filter, Page { before: None, limit: RESEARCH_VISITS }).await?.items;
    let visits: Vec<_> = visits.into_iter().filter(|v| v.status != crate::domain::visit::VisitStatus::Draft).collect();
    let mut rep_ids: Vec<UserId> = visits.iter().map(|v| v.rep_id).collect();
    rep_ids.sort_by_key(|u| u.0);
    rep_ids.dedup();
    let names: std::collections::HashMap<_, _> = app.repo.users_by_id(&rep_ids).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let past = |v: &crate::domain::visit::Visit| PastVisit {
        visit_id: v.id,
        visit_date: v.visit_date,
        rep_name: names.get(&v.rep_id).cloned(),
        method: v.content.method,
        status: v.status,
        review_status: v.review_status,
        result_reason: v.content.result_reason.clone(),
        summary: v.content.summary.clone(),
        details: v.content.details.clone(),
        next_steps: v.content.next_steps.clone(),
        next_follow_up_at: v.content.next_follow_up_at,
    };
    let since = today.checked_sub_days(chrono::Days::new(90)).unwrap_or(today);
    let complaints = visits
        .iter()
        .filter(|v| v.content.result_reason.as_ref().is_some_and(|r| r.level1 == "service") && v.visit_date.is_some_and(|d| d >= since))
        .map(past)
        .collect();
    let last_visits = visits.iter().take(LAST_VISITS).map(past).collect();
    Ok(Research {
        customer_id: id,
        class: customer.class,
        class_history: app.repo.class_history(id).await?,
        volumes,
        complaints,
        last_visits,
    })
}
