//! `serve --demo`: a partner with customers to try the API on, and fresh keys for each role.
//! Seeding is idempotent: the partner and customers are created once; the keys are replaced on
//! every start because their secrets cannot be shown again.

use sea_orm::{DatabaseConnection, DbErr};
use uuid::{Uuid, uuid};

use crate::domain::{CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, PhoneNumber, Role, SupportPlan};
use crate::http::api_keys::issue;
use crate::store::api_keys::{self, NewApiKey};
use crate::store::customers::{self, Contact, NewCustomer};
use crate::store::partners::{self, NewPartner};

/// The demo partner's fixed tenant, which tells whether the demo was seeded before.
const PARTNER_TENANT: Uuid = uuid!("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
const KEY_NAMES: [&str; 3] = ["demo admin", "demo operator", "demo partner"];

/// The secrets of the keys issued for this start.
pub struct DemoKeys {
    pub admin: String,
    pub operator: String,
    pub partner: String,
}

/// (company name, domain prefix, tenant, plan, contact name, contact e-mail, phone)
const CUSTOMERS: [(&str, &str, Uuid, SupportPlan, &str, &str, Option<&str>); 4] = [
    (
        "上海云启科技有限公司",
        "yunqi",
        uuid!("5d1c2a34-8f6b-4e1d-9c2a-3b4c5d6e7f80"),
        SupportPlan::Premium,
        "王芳",
        "wang.fang@yunqi.cn",
        Some("+86 21 5555 0100"),
    ),
    (
        "北京数智医疗集团",
        "shuzhi-health",
        uuid!("6e2d3b45-9a7c-4f2e-8d3b-4c5d6e7f8091"),
        SupportPlan::Standard,
        "李雷",
        "li.lei@shuzhi-health.cn",
        None,
    ),
    (
        "深圳星河物流有限公司",
        "xinghe-logistics",
        uuid!("7f3e4c56-ab8d-4a3f-9e4c-5d6e7f8091a2"),
        SupportPlan::Premium,
        "陈静",
        "chen.jing@xinghe.cn",
        Some("+86 755 5555 0199"),
    ),
    (
        "Fabrikam China Ltd.",
        "fabrikam",
        uuid!("80a4f567-bc9e-4b40-8f5d-6e7f8091a2b3"),
        SupportPlan::Standard,
        "Zhang Wei",
        "zhang.wei@fabrikam.cn",
        None,
    ),
];

fn invalid(what: &str) -> DbErr {
    DbErr::Custom(format!("demo data is invalid: {what}"))
}

pub async fn seed(db: &DatabaseConnection) -> Result<DemoKeys, Box<dyn std::error::Error>> {
    let partner_id = match partners::find_by_tenant(db, PARTNER_TENANT).await? {
        Some(partner) => partner.id,
        None => seed_partner(db).await?,
    };
    api_keys::revoke_named(db, &KEY_NAMES).await?;
    let mut secrets = Vec::with_capacity(KEY_NAMES.len());
    for (name, role) in KEY_NAMES.iter().zip([Role::Admin, Role::Operator, Role::Partner]) {
        let new = NewApiKey {
            name: DisplayName::parse(name).map_err(|_| invalid(name))?,
            role,
            partner_id: (role == Role::Partner).then_some(partner_id),
        };
        let issued = issue(db, new).await.map_err(|err| err.to_string())?;
        secrets.push(issued.secret.secret);
    }
    let [admin, operator, partner]: [String; 3] = secrets.try_into().map_err(|_| invalid("keys"))?;
    Ok(DemoKeys { admin, operator, partner })
}

async fn seed_partner(db: &DatabaseConnection) -> Result<Uuid, DbErr> {
    let partner = partners::create(
        db,
        NewPartner {
            name: DisplayName::parse("云桥科技 CloudBridge (demo)").map_err(|_| invalid("partner name"))?,
            mpn_id: "6123456".to_owned(),
            tenant_id: PARTNER_TENANT,
            country: CountryCode::CHINA,
        },
    )
    .await?;
    for (company, domain, tenant_id, plan, contact, email, phone) in CUSTOMERS {
        let new = NewCustomer {
            company_name: CompanyName::parse(company).map_err(|_| invalid(company))?,
            domain: DomainName::parse(&format!("{domain}.partner.onmschina.cn")).map_err(|_| invalid(domain))?,
            tenant_id,
            country: CountryCode::CHINA,
            support_plan: plan,
            primary_contact: Contact {
                name: DisplayName::parse(contact).map_err(|_| invalid(contact))?,
                email: EmailAddress::parse(email).map_err(|_| invalid(email))?,
                phone: phone.map(PhoneNumber::parse).transpose().map_err(|_| invalid("phone"))?,
            },
        };
        customers::create(db, partner.id, new).await?;
    }
    Ok(partner.id)
}
