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
    let classified = crate::domain::classify::classify(&app.policy.classes, &s, c.created_on, last_month, same_span, month_to_date);
    Ok(CustomerClassView { class_history: app.repo.class_history(c.id).await?, volumes: classified.reason })
}

pub async fn list(app: &App, actor: &Actor, mut filter: CustomerFilter, page: Page) -> Result<Paged<Customer>, AppError> {
    match actor.role {
        Role::Hq | Role::Admin => {}
        Role::Sales | Role::BranchMarketing => {
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
/// marketing accepts or rejects it. Returns whether one was stored.
pub(crate) async fn propose_place_from(app: &App, detail: &super::visits::VisitDetail) -> Result<bool, AppError> {
    use crate::domain::visit::{Method, PhotoKind};
    let v = &detail.visit;
    if v.content.method != Method::DoorVisit {
        return Ok(false);
    }
    let Some(customer) = app.repo.get_customer(v.content.customer_id).await? else { return Ok(false) };
    if customer.location.is_some() {
        return Ok(false);
    }
    let place =
        detail.photos.iter().filter(|p| p.kind != PhotoKind::WhatsappScreenshot && p.capture.is_mock_location != Some(true)).find_map(
            |p| match (p.facts.exif_location, p.capture.location) {
                (Some(at), _) => Some((p, at, None, "exif")),
                (None, Some(at)) => Some((p, at, p.capture.accuracy_m, "app")),
                (None, None) => None,
            },
        );
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
