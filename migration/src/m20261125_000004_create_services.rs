//! The service catalog, seeded with the six services 21Vianet operates in China.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use serde_json::json;
use uuid::uuid;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One seeded service: every one is operated by 21Vianet, first-party and staffed 24x7.
struct Seed {
    id: uuid::Uuid,
    key: &'static str,
    name: &'static str,
    admin_center_url: &'static str,
    self_help: serde_json::Value,
}

fn seed() -> Vec<Seed> {
    let service_health = |title: &str, url: &str| json!({"title": title, "url": url});
    let china_availability = json!({
        "title": "Business applications operated by 21Vianet: feature availability",
        "url": "https://learn.microsoft.com/power-platform/admin/business-applications-availability-china"
    });
    vec![
        Seed {
            id: uuid!("019ab8a0-0000-7000-8000-000000000001"),
            key: "microsoft-365",
            name: "Microsoft 365 operated by 21Vianet",
            admin_center_url: "https://portal.partner.microsoftonline.cn/AdminPortal",
            self_help: json!([
                service_health("Service health in the Microsoft 365 admin center",
                    "https://portal.partner.microsoftonline.cn/AdminPortal/Home#/servicehealth"),
                {"title": "Microsoft 365 operated by 21Vianet: service description",
                 "url": "https://learn.microsoft.com/office365/servicedescriptions/office-365-platform-service-description/microsoft-365-operated-by-21vianet"}
            ]),
        },
        Seed {
            id: uuid!("019ab8a0-0000-7000-8000-000000000002"),
            key: "azure",
            name: "Azure operated by 21Vianet",
            admin_center_url: "https://portal.azure.cn",
            self_help: json!([
                service_health("Azure Service Health in the Azure portal",
                    "https://portal.azure.cn/#view/Microsoft_Azure_Health/AzureHealthBrowseBlade"),
                {"title": "Azure operated by 21Vianet documentation", "url": "https://docs.azure.cn/zh-cn/"},
                {"title": "Azure operated by 21Vianet support", "url": "https://support.azure.cn/zh-cn/support/contact/"}
            ]),
        },
        Seed {
            id: uuid!("019ab8a0-0000-7000-8000-000000000003"),
            key: "dynamics-365",
            name: "Dynamics 365 operated by 21Vianet",
            admin_center_url: "https://admin.powerplatform.partner.microsoftonline.cn",
            self_help: json!([china_availability]),
        },
        Seed {
            id: uuid!("019ab8a0-0000-7000-8000-000000000004"),
            key: "power-bi",
            name: "Power BI operated by 21Vianet",
            admin_center_url: "https://app.powerbi.cn",
            self_help: json!([
                {"title": "Power BI admin portal", "url": "https://app.powerbi.cn/admin-portal"},
                china_availability
            ]),
        },
        Seed {
            id: uuid!("019ab8a0-0000-7000-8000-000000000005"),
            key: "power-apps",
            name: "Power Apps operated by 21Vianet",
            admin_center_url: "https://make.powerapps.cn",
            self_help: json!([china_availability]),
        },
        Seed {
            id: uuid!("019ab8a0-0000-7000-8000-000000000006"),
            key: "power-automate",
            name: "Power Automate operated by 21Vianet",
            admin_center_url: "https://make.powerautomate.cn",
            self_help: json!([china_availability]),
        },
    ]
}

/// The categories 21Vianet handles, which every first-party service accepts.
fn escalated_categories() -> serde_json::Value {
    json!([
        "service_unavailable",
        "undocumented_defect",
        "product_bug",
        "network_disruption",
        "regional_multi_tenant_issue",
        "billing_dispute"
    ])
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("services")
                    .col(pk_uuid("id"))
                    .col(string_len("key", 50))
                    .col(string_len("name", 100))
                    .col(string_len("operated_by", 100))
                    .col(boolean("first_party"))
                    .col(string_len("admin_center_url", 2000))
                    .col(string_len("support_hours", 16))
                    .col(json_binary("self_help"))
                    .col(json_binary("categories"))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_services_key")
                    .table("services")
                    .col("key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        let seeded_at = chrono::DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z")
            .expect("a valid timestamp")
            .to_utc();
        let mut insert = Query::insert();
        insert.into_table("services").columns([
            "id",
            "key",
            "name",
            "operated_by",
            "first_party",
            "admin_center_url",
            "support_hours",
            "self_help",
            "categories",
            "version",
            "created_at",
            "updated_at",
        ]);
        for service in seed() {
            insert.values_panic([
                service.id.into(),
                service.key.into(),
                service.name.into(),
                "21Vianet".into(),
                true.into(),
                service.admin_center_url.into(),
                "24x7".into(),
                service.self_help.into(),
                escalated_categories().into(),
                1.into(),
                seeded_at.into(),
                seeded_at.into(),
            ]);
        }
        manager.execute(insert.to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("services").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
