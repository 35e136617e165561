//! A customer's directory tenant is unique per partner, not across escalade: in Partner Center
//! one tenant may have relationships with several CSP partners, and a global index let one
//! partner learn, or block, another's customers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const GLOBAL: &str = "ux_customers_tenant_id";
const PER_PARTNER: &str = "ux_customers_partner_tenant";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(GLOBAL).table("customers").to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(PER_PARTNER)
                    .table("customers")
                    .col("partner_id")
                    .col("tenant_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    /// Back to one customer per tenant across escalade; refused (and nothing changed) while two
    /// partners have the same tenant as a customer.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(PER_PARTNER)
                    .table("customers")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(GLOBAL)
                    .table("customers")
                    .col("tenant_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
