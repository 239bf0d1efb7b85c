//! Roles and what each may see. One role per user.

use serde::{Deserialize, Serialize};

use super::ids::{BranchId, UserId};

/// The four roles of DESIGN.md's security section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A field rep: sees and writes only their own tasks and visits.
    Sales,
    /// Branch marketing: sees and reviews its branch.
    BranchMarketing,
    /// The branch manager / supervisor above the branch's sales (SOP: "Sales Manager",
    /// "Supervisor"): sees and reviews its branch like branch marketing, receives the
    /// escalations and the daily H+1 digest.
    Supervisor,
    /// Marketing headquarters: sees and reviews everything.
    Hq,
    /// Operators: everything, plus users.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sales => "sales",
            Role::BranchMarketing => "branch_marketing",
            Role::Supervisor => "supervisor",
            Role::Hq => "hq",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "sales" => Some(Role::Sales),
            "branch_marketing" => Some(Role::BranchMarketing),
            "supervisor" => Some(Role::Supervisor),
            "hq" => Some(Role::Hq),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Marketing roles review visits and manage customers and tasks.
    pub fn is_marketing(self) -> bool {
        matches!(self, Role::BranchMarketing | Role::Supervisor | Role::Hq | Role::Admin)
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub branch_id: Option<BranchId>,
}

/// Which rows a caller may see: the one rule every list and get applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only rows owned by (assigned to) this user.
    Own(UserId),
    /// Rows of this branch.
    Branch(BranchId),
    /// Everything.
    All,
}

impl Scope {
    /// A scope no row is in (the nil user owns nothing): what a filter read back from storage
    /// holds until its reader's own scope is set.
    pub fn nothing() -> Scope {
        Scope::Own(UserId(uuid::Uuid::nil()))
    }
}

impl Actor {
    pub fn scope(&self) -> Scope {
        match (self.role, self.branch_id) {
            (Role::Sales, _) => Scope::Own(self.id),
            (Role::BranchMarketing | Role::Supervisor, Some(branch)) => Scope::Branch(branch),
            // A branch user without a branch sees nothing of any branch.
            (Role::BranchMarketing | Role::Supervisor, None) => Scope::Own(self.id),
            (Role::Hq | Role::Admin, _) => Scope::All,
        }
    }

    /// Whether a row owned by `owner` in `branch` is visible to this caller.
    pub fn can_see(&self, owner: UserId, branch: BranchId) -> bool {
        match self.scope() {
            Scope::Own(me) => me == owner,
            Scope::Branch(b) => b == branch,
            Scope::All => true,
        }
    }

    /// Whether the caller may see a branch's shared data (its customers).
    pub fn can_see_branch(&self, branch: BranchId) -> bool {
        match self.role {
            Role::Hq | Role::Admin => true,
            Role::Sales | Role::BranchMarketing | Role::Supervisor => self.branch_id == Some(branch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn actor(role: Role, branch: Option<BranchId>) -> Actor {
        Actor { id: UserId(Uuid::from_u128(1)), name: "x".into(), role, branch_id: branch }
    }

    #[test]
    fn roles_round_trip_and_scopes_follow_the_design() {
        for r in [Role::Sales, Role::BranchMarketing, Role::Supervisor, Role::Hq, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        let b1 = BranchId(Uuid::from_u128(10));
        let b2 = BranchId(Uuid::from_u128(11));
        let other = UserId(Uuid::from_u128(2));
        let rep = actor(Role::Sales, Some(b1));
        assert!(rep.can_see(rep.id, b1));
        assert!(!rep.can_see(other, b1));
        let bm = actor(Role::BranchMarketing, Some(b1));
        assert!(bm.can_see(other, b1));
        assert!(!bm.can_see(other, b2));
        assert!(actor(Role::Hq, None).can_see(other, b2));
        assert!(!rep.can_see_branch(b2));
    }
}
