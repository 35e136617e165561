//! `serve --demo`: a partner with customers and their subscriptions to try the API on, and fresh
//! keys for each role. Seeding is idempotent: the partner and customers are created once; the
//! keys are replaced on every start because their secrets cannot be shown again.

use sea_orm::{DatabaseConnection, DbErr};
use uuid::{Uuid, uuid};

use crate::domain::{
    CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, MpnId, PhoneNumber, Role,
    ServiceKey, SubscriptionStatus, SupportPlan, Title,
};
use crate::http::api_keys::issue;
use crate::store::WriteGate;
use crate::store::api_keys::{self, NewApiKey};
use crate::store::customers::{self, Contact, NewCustomer};
use crate::store::partners::{self, NewPartner};
use crate::store::subscriptions::{self, NewSubscription};

/// The demo partner's fixed tenant, which tells whether the demo was seeded before.
const PARTNER_TENANT: Uuid = uuid!("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
const KEY_NAMES: [&str; 3] = ["demo admin", "demo operator", "demo partner"];

/// The secrets of the keys issued for this start.
pub struct DemoKeys {
    pub admin: String,
    pub operator: String,
    pub partner: String,
}

/// One demo customer, as a partner would enter it.
struct DemoCustomer {
    company_name: &'static str,
    /// Becomes `<prefix>.partner.onmschina.cn`.
    domain_prefix: &'static str,
    tenant_id: Uuid,
    support_plan: SupportPlan,
    contact_name: &'static str,
    contact_email: &'static str,
    contact_phone: Option<&'static str>,
    /// (service key, offer, quantity, status)
    subscriptions: &'static [(&'static str, &'static str, i32, SubscriptionStatus)],
}

const CUSTOMERS: [DemoCustomer; 4] = [
    DemoCustomer {
        company_name: "上海云启科技有限公司",
        domain_prefix: "yunqi",
        tenant_id: uuid!("5d1c2a34-8f6b-4e1d-9c2a-3b4c5d6e7f80"),
        support_plan: SupportPlan::Premium,
        contact_name: "王芳",
        contact_email: "wang.fang@yunqi.cn",
        contact_phone: Some("+86 21 5555 0100"),
        subscriptions: &[
            (
                "microsoft-365",
                "Office 365 E3",
                250,
                SubscriptionStatus::Active,
            ),
            ("azure", "Azure plan", 1, SubscriptionStatus::Active),
        ],
    },
    DemoCustomer {
        company_name: "北京数智医疗集团",
        domain_prefix: "shuzhi-health",
        tenant_id: uuid!("6e2d3b45-9a7c-4f2e-8d3b-4c5d6e7f8091"),
        support_plan: SupportPlan::Standard,
        contact_name: "李雷",
        contact_email: "li.lei@shuzhi-health.cn",
        contact_phone: None,
        subscriptions: &[
            (
                "dynamics-365",
                "Dynamics 365 Customer Service Enterprise",
                40,
                SubscriptionStatus::Active,
            ),
            ("power-bi", "Power BI Pro", 60, SubscriptionStatus::Pending),
        ],
    },
    DemoCustomer {
        company_name: "深圳星河物流有限公司",
        domain_prefix: "xinghe-logistics",
        tenant_id: uuid!("7f3e4c56-ab8d-4a3f-9e4c-5d6e7f8091a2"),
        support_plan: SupportPlan::Premium,
        contact_name: "陈静",
        contact_email: "chen.jing@xinghe.cn",
        contact_phone: Some("+86 755 5555 0199"),
        subscriptions: &[("azure", "Azure plan", 1, SubscriptionStatus::Active)],
    },
    DemoCustomer {
        company_name: "Fabrikam China Ltd.",
        domain_prefix: "fabrikam",
        tenant_id: uuid!("80a4f567-bc9e-4b40-8f5d-6e7f8091a2b3"),
        support_plan: SupportPlan::Standard,
        contact_name: "Zhang Wei",
        contact_email: "zhang.wei@fabrikam.cn",
        contact_phone: None,
        subscriptions: &[(
            "microsoft-365",
            "Microsoft 365 Business Standard",
            35,
            SubscriptionStatus::Suspended,
        )],
    },
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
    for (name, role) in KEY_NAMES
        .iter()
        .zip([Role::Admin, Role::Operator, Role::Partner])
    {
        let new = NewApiKey {
            name: DisplayName::parse(name).map_err(|_| invalid(name))?,
            role,
            partner_id: (role == Role::Partner).then_some(partner_id),
        };
        let issued = issue(db, new).await.map_err(|err| err.to_string())?;
        secrets.push(issued.secret.secret);
    }
    let [admin, operator, partner]: [String; 3] =
        secrets.try_into().map_err(|_| invalid("keys"))?;
    Ok(DemoKeys {
        admin,
        operator,
        partner,
    })
}

async fn seed_partner(db: &DatabaseConnection) -> Result<Uuid, DbErr> {
    let partner = partners::create(
        db,
        NewPartner {
            name: DisplayName::parse("云桥科技 CloudBridge (demo)")
                .map_err(|_| invalid("partner name"))?,
            mpn_id: MpnId::parse("6123456").map_err(|_| invalid("MPN id"))?,
            tenant_id: PARTNER_TENANT,
            country: CountryCode::CHINA,
        },
    )
    .await?;
    let gate = WriteGate::for_database(db);
    for seed in CUSTOMERS {
        let domain = format!("{}.partner.onmschina.cn", seed.domain_prefix);
        let new = NewCustomer {
            company_name: CompanyName::parse(seed.company_name)
                .map_err(|_| invalid(seed.company_name))?,
            domain: DomainName::parse(&domain).map_err(|_| invalid(&domain))?,
            tenant_id: seed.tenant_id,
            country: CountryCode::CHINA,
            support_plan: seed.support_plan,
            primary_contact: Contact {
                name: DisplayName::parse(seed.contact_name)
                    .map_err(|_| invalid(seed.contact_name))?,
                email: EmailAddress::parse(seed.contact_email)
                    .map_err(|_| invalid(seed.contact_email))?,
                phone: seed
                    .contact_phone
                    .map(PhoneNumber::parse)
                    .transpose()
                    .map_err(|_| invalid("phone"))?,
            },
        };
        let customer = customers::create(db, &gate, partner.id, new).await?;
        for &(service, offer, quantity, status) in seed.subscriptions {
            let new = NewSubscription {
                service_key: ServiceKey::parse(service).map_err(|_| invalid(service))?,
                offer_name: Title::parse(offer).map_err(|_| invalid(offer))?,
                quantity,
                status,
            };
            subscriptions::create(db, partner.id, customer.id, new).await?;
        }
    }
    Ok(partner.id)
}
