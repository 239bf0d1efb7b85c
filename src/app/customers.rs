//! Customers: read by everyone in their branch, written by marketing roles.

use super::{App, AppError};
pub use crate::db::CustomerFilter;
use crate::domain::customer::Customer;
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
