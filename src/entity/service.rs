use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub key: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub operated_by: String,
    pub first_party: bool,
    pub admin_center_url: String,
    pub support_hours: String,
    /// `[{title, title_zh?, url}]`.
    #[sea_orm(column_type = "JsonBinary")]
    pub self_help: Json,
    /// Category names.
    #[sea_orm(column_type = "JsonBinary")]
    pub categories: Json,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
