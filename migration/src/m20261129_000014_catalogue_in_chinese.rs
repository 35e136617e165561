//! Catalogue texts in Simplified Chinese beside the base text: a service's `name_zh`, each
//! self-help resource's `title_zh`, an incident's `title_zh` and each update's `text_zh`. Answers
//! pick the one in the caller's language. The seeded services get their names as the 21Vianet
//! portals write them, unless an admin has changed them since.

use sea_orm_migration::{prelude::*, schema::*};
use serde_json::json;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A seeded service's texts: its English name as seeded, its Chinese name, and its self-help
/// resources with both titles.
struct Seeded {
    key: &'static str,
    name: &'static str,
    name_zh: &'static str,
    self_help: serde_json::Value,
}

fn seeded() -> Vec<Seeded> {
    let link = |title: &str, title_zh: &str, url: &str| json!({"title": title, "title_zh": title_zh, "url": url});
    let china_availability = link(
        "Business applications operated by 21Vianet: feature availability",
        "由世纪互联运营的业务应用程序：功能可用性",
        "https://learn.microsoft.com/power-platform/admin/business-applications-availability-china",
    );
    vec![
        Seeded {
            key: "microsoft-365",
            name: "Microsoft 365 operated by 21Vianet",
            name_zh: "由世纪互联运营的 Microsoft 365",
            self_help: json!([
                link(
                    "Service health in the Microsoft 365 admin center",
                    "Microsoft 365 管理中心中的服务运行状况",
                    "https://portal.partner.microsoftonline.cn/AdminPortal/Home#/servicehealth"
                ),
                link(
                    "Microsoft 365 operated by 21Vianet: service description",
                    "由世纪互联运营的 Microsoft 365：服务说明",
                    "https://learn.microsoft.com/office365/servicedescriptions/office-365-platform-service-description/microsoft-365-operated-by-21vianet"
                )
            ]),
        },
        Seeded {
            key: "azure",
            name: "Azure operated by 21Vianet",
            name_zh: "由世纪互联运营的 Azure",
            self_help: json!([
                link(
                    "Azure Service Health in the Azure portal",
                    "Azure 门户中的 Azure 服务运行状况",
                    "https://portal.azure.cn/#view/Microsoft_Azure_Health/AzureHealthBrowseBlade"
                ),
                link(
                    "Azure operated by 21Vianet documentation",
                    "由世纪互联运营的 Azure 文档",
                    "https://docs.azure.cn/zh-cn/"
                ),
                link(
                    "Azure operated by 21Vianet support",
                    "由世纪互联运营的 Azure 技术支持",
                    "https://support.azure.cn/zh-cn/support/contact/"
                )
            ]),
        },
        Seeded {
            key: "dynamics-365",
            name: "Dynamics 365 operated by 21Vianet",
            name_zh: "由世纪互联运营的 Dynamics 365",
            self_help: json!([china_availability]),
        },
        Seeded {
            key: "power-bi",
            name: "Power BI operated by 21Vianet",
            name_zh: "由世纪互联运营的 Power BI",
            self_help: json!([
                link(
                    "Power BI admin portal",
                    "Power BI 管理门户",
                    "https://app.powerbi.cn/admin-portal"
                ),
                china_availability
            ]),
        },
        Seeded {
            key: "power-apps",
            name: "Power Apps operated by 21Vianet",
            name_zh: "由世纪互联运营的 Power Apps",
            self_help: json!([china_availability]),
        },
        Seeded {
            key: "power-automate",
            name: "Power Automate operated by 21Vianet",
            name_zh: "由世纪互联运营的 Power Automate",
            self_help: json!([china_availability]),
        },
    ]
}

fn add_column(table: &'static str, column: ColumnDef) -> TableAlterStatement {
    Table::alter().table(table).add_column(column).to_owned()
}

fn drop_column(table: &'static str, column: &'static str) -> TableAlterStatement {
    Table::alter().table(table).drop_column(column).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(add_column("services", string_len_null("name_zh", 100)))
            .await?;
        manager
            .alter_table(add_column(
                "service_incidents",
                string_len_null("title_zh", 200),
            ))
            .await?;
        manager
            .alter_table(add_column("service_incident_updates", text_null("text_zh")))
            .await?;
        for service in seeded() {
            // The Chinese name, unless an admin renamed the service.
            let name = Query::update()
                .table("services")
                .value("name_zh", service.name_zh)
                .and_where(Expr::col("key").eq(service.key))
                .and_where(Expr::col("name").eq(service.name))
                .to_owned();
            manager.execute(name).await?;
            // The self-help titles, unless the service was changed since it was seeded.
            let self_help = Query::update()
                .table("services")
                .value("self_help", service.self_help)
                .and_where(Expr::col("key").eq(service.key))
                .and_where(Expr::col("version").eq(1))
                .to_owned();
            manager.execute(self_help).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(drop_column("service_incident_updates", "text_zh"))
            .await?;
        manager
            .alter_table(drop_column("service_incidents", "title_zh"))
            .await?;
        manager
            .alter_table(drop_column("services", "name_zh"))
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
