//! `fieldproof demo`: a realistic data set — three branches in WIB, WITA and WIT, users of every
//! role, 30 customers with coordinates, classes and contacts, and open tasks for today.
//!
//! Every row has an id derived from a stable name, so running it again updates rather than
//! duplicates. Demo tokens are derived from the user's name (`fpdemo_<login>`) and so are the
//! console passwords (`demo-<login>-pass`), so that the README walk-through can use them;
//! never load demo data into a production database.

use chrono::{Days, NaiveDate};

use super::auth::token_hash;
use super::{App, AppError};
use crate::domain::customer::{Customer, CustomerClass, GeoPoint};
use crate::domain::directory::{Branch, User};
use crate::domain::ids::{stable_uuid, BranchId, CustomerId, TaskId, UserId};
use crate::domain::role::Role;
use crate::domain::task::{NewTask, RequiredMethod, Task, TaskType};
use crate::domain::time::local_date;

/// One demo login and its token (printed once by `fieldproof demo`; `Debug` hides it).
#[derive(Clone)]
pub struct DemoLogin {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub branch: Option<String>,
    pub token: String,
    /// The console password (`demo-<login>-pass`).
    pub password: String,
}

impl std::fmt::Debug for DemoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoLogin")
            .field("login", &self.login)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("branch", &self.branch)
            .field("token", &"***")
            .field("password", &"***")
            .finish()
    }
}

struct BranchSeed {
    code: &'static str,
    name: &'static str,
    tz: chrono_tz::Tz,
    center: (f64, f64),
    reps: [&'static str; 2],
    marketing: &'static str,
    /// The branch's supervisor, where the demo has one.
    supervisor: Option<&'static str>,
    places: [&'static str; 10],
}

const BUSINESSES: [(&str, &str); 10] = [
    ("Toko", "retail"),
    ("Grosir", "wholesale"),
    ("Online Shop", "online_seller"),
    ("CV", "corporate"),
    ("Butik", "retail"),
    ("Apotek", "retail"),
    ("Distributor", "wholesale"),
    ("Kedai", "online_seller"),
    ("PT", "corporate"),
    ("Percetakan", "corporate"),
];
const CLASSES: [CustomerClass; 10] = [
    CustomerClass::A,
    CustomerClass::B,
    CustomerClass::C,
    CustomerClass::D,
    CustomerClass::E,
    CustomerClass::C,
    CustomerClass::Lost,
    CustomerClass::LostWarning,
    CustomerClass::New,
    CustomerClass::E,
];
const CONTACTS: [(&str, &str); 5] = [
    ("Bu Sari", "Pemilik"),
    ("Pak Budi", "Manajer Gudang"),
    ("Bu Dewi", "Admin Pengiriman"),
    ("Pak Agus", "Owner"),
    ("Bu Rina", "Supervisor"),
];

fn seeds() -> [BranchSeed; 3] {
    [
        BranchSeed {
            code: "JKT",
            name: "Jakarta Pusat",
            tz: chrono_tz::Asia::Jakarta,
            center: (-6.1862, 106.8341),
            reps: ["andi", "siti"],
            marketing: "maya",
            supervisor: Some("bambang"),
            places: [
                "Tanah Abang",
                "Senen",
                "Cikini",
                "Menteng",
                "Kemayoran",
                "Sawah Besar",
                "Gambir",
                "Johar Baru",
                "Cempaka Putih",
                "Salemba",
            ],
        },
        BranchSeed {
            code: "MKS",
            name: "Makassar",
            tz: chrono_tz::Asia::Makassar,
            center: (-5.1477, 119.4327),
            reps: ["rudi", "wulan"],
            marketing: "yusuf",
            supervisor: None,
            places: ["Panakkukang", "Somba Opu", "Losari", "Daya", "Tamalanrea", "Mariso", "Rappocini", "Tallo", "Bontoala", "Mamajang"],
        },
        BranchSeed {
            code: "JAP",
            name: "Jayapura",
            tz: chrono_tz::Asia::Jayapura,
            center: (-2.5337, 140.7181),
            reps: ["yohanes", "maria"],
            marketing: "petrus",
            supervisor: None,
            places: ["Hamadi", "Entrop", "Abepura", "Kotaraja", "Waena", "Argapura", "Dok Lima", "Polimak", "Sentani", "Skyline"],
        },
    ]
}

fn login(app: &str) -> (UserId, String) {
    (UserId(stable_uuid(&format!("user:{app}"))), format!("fpdemo_{app}"))
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Loads (or refreshes) the demo data and returns the logins.
pub async fn load(app: &App) -> Result<Vec<DemoLogin>, AppError> {
    let now = app.now();
    let mut logins = Vec::new();
    let mut add_user = |role: Role, name: &str, branch: Option<(BranchId, &str)>| {
        let (id, token) = login(name);
        let password = format!("demo-{name}-pass");
        logins.push(DemoLogin {
            login: name.to_string(),
            name: title(name),
            role,
            branch: branch.map(|b| b.1.to_string()),
            token,
            password,
        });
        User { id, name: title(name), role, branch_id: branch.map(|b| b.0) }
    };
    let mut users = vec![add_user(Role::Hq, "hana", None), add_user(Role::Admin, "admin", None)];
    let mut branches = Vec::new();
    for seed in seeds() {
        let branch = Branch {
            id: BranchId(stable_uuid(&format!("branch:{}", seed.code))),
            code: seed.code.into(),
            name: seed.name.into(),
            time_zone: seed.tz,
            working_days: crate::domain::directory::MONDAY_TO_FRIDAY,
        };
        for rep in seed.reps {
            users.push(add_user(Role::Sales, rep, Some((branch.id, seed.code))));
        }
        users.push(add_user(Role::BranchMarketing, seed.marketing, Some((branch.id, seed.code))));
        if let Some(supervisor) = seed.supervisor {
            users.push(add_user(Role::Supervisor, supervisor, Some((branch.id, seed.code))));
        }
        branches.push((seed, branch));
    }
    for (_, branch) in &branches {
        app.repo.upsert_branch(branch).await?;
    }
    for user in &users {
        app.repo.upsert_user(user, now).await?;
    }
    for l in &logins {
        let id = login(&l.login).0;
        app.repo.add_token(id, &token_hash(&l.token), "demo", now).await?;
        super::sessions::set_login(app, id, &l.login).await?;
        let keeps_password = match app.repo.credentials_of(id).await? {
            Some(c) => c.password_hash.is_some_and(|h| super::sessions::verify_password(&l.password, &h)),
            None => false,
        };
        if !keeps_password {
            super::sessions::set_password(app, id, &l.password, false).await?;
        }
    }

    for (seed, branch) in &branches {
        let today = local_date(now, branch.time_zone);
        for (i, place) in seed.places.iter().enumerate() {
            let code = format!("{}{:04}", seed.code, i + 1);
            let (prefix, kind) = BUSINESSES[i];
            let (contact, position) = CONTACTS[i % CONTACTS.len()];
            let rep = login(seed.reps[i % 2]).0;
            // Spread customers over a few kilometres around the branch, deterministically.
            let angle = i as f64 * 0.63;
            let radius_deg = 0.008 + 0.004 * (i % 5) as f64;
            let location = GeoPoint::parse(seed.center.0 + radius_deg * angle.sin(), seed.center.1 + radius_deg * angle.cos())
                .map_err(AppError::internal)?;
            let created_on =
                today.checked_sub_days(Days::new(if CLASSES[i] == CustomerClass::New { 20 } else { 400 + 30 * i as u64 })).unwrap_or(today);
            let customer = Customer {
                id: CustomerId(stable_uuid(&format!("customer:{code}"))),
                code: code.clone(),
                name: format!("{prefix} {place}"),
                customer_type: kind.into(),
                branch_id: branch.id,
                assigned_rep_id: Some(rep),
                location: Some(location),
                geofence_radius_m: if i % 4 == 0 { Some(200.0) } else { None },
                contact_name: Some(contact.into()),
                contact_position: Some(position.into()),
                contact_phone: Some(format!("+62 812 {:04} {:04}", 1000 + i * 37, 2000 + i * 53)),
                created_on,
                class: CLASSES[i],
                previous_level: None,
                ownership: crate::domain::customer::Ownership::Hq,
                dp: None,
                created_at: now,
                updated_at: now,
            };
            app.repo.upsert_customer_by_code(&customer).await?;
            if let Some(task) = todays_task(&customer, rep, today, now) {
                app.repo.insert_task(&task).await?;
            }
        }
    }
    Ok(logins)
}

fn todays_task(customer: &Customer, rep: UserId, today: NaiveDate, now: chrono::DateTime<chrono::Utc>) -> Option<Task> {
    let (task_type, method) = match customer.class {
        CustomerClass::Lost => (TaskType::LostRecovery, RequiredMethod::DoorVisit),
        CustomerClass::LostWarning => (TaskType::LostWarning, RequiredMethod::DoorVisitOrWhatsapp),
        CustomerClass::New => (TaskType::Onboarding, RequiredMethod::DoorVisit),
        CustomerClass::F => return None,
        _ => (TaskType::Routine, RequiredMethod::DoorVisit),
    };
    let task = NewTask {
        customer_id: customer.id,
        branch_id: customer.branch_id,
        assignee_id: rep,
        task_type,
        required_method: method,
        due_date: today,
        origin: "demo",
    };
    Some(
        task.open(TaskId(stable_uuid(&format!("task:{}:{today}", customer.code))), now)
            .with_note(Some(format!("Kunjungan {} hari ini", customer.name))),
    )
}
