//! Text as search compares it, and the grams that find it.
//!
//! A search finds a customer or an escalation by any run of two characters or more of its text:
//! 星河 in 深圳星河物流有限公司, `ntos` in Contoso. Indexes on the text itself serve only its
//! start, and trigram indexes (pg_trgm, FTS5's `trigram`) cannot answer a 2-character query, which
//! is most of what people type in Chinese. So each text is cut into *grams* — every two
//! consecutive letters or digits, and every three where none is a CJK character — kept in a
//! posting table (`customer_grams`, `escalation_grams`) that both engines index alike. A query is
//! cut the same way: one gram's postings are read in the order the answer is listed, and the
//! others are checked against the same entity.
//!
//! This lives beside the migrations because the migration that creates the posting tables fills
//! them with these very functions: the application writes with what the backfill wrote.

use std::collections::BTreeMap;

use sea_orm_migration::sea_orm::sea_query::{
    Expr, ExprTrait, OnConflict, Query, SelectStatement, Value,
};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbErr, QueryResult};
use uuid::Uuid;

/// The default domain every tenant of Microsoft's cloud in China has: it names no one, so it is
/// not searched.
const TENANT_DOMAIN_SUFFIX: &str = ".partner.onmschina.cn";

/// `text` as search compares it: full-width Latin letters, digits and signs as their ordinary
/// forms, the ideographic space as a space, all in lower case. `Ｃｏｎｔｏｓｏ` and `contoso`
/// are the same to a search.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// A character that is a word's worth on its own: CJK ideographs, kana, hangul. Runs of these
/// are cut into pairs only; a third adds little a pair does not already say.
fn is_wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3FFFD}')
}

/// The grams of folded text, each with whether it begins the text: every two consecutive
/// letters or digits, and every three without a wide character, never across a space or a sign.
pub fn grams(folded: &str) -> BTreeMap<String, bool> {
    let mut grams = BTreeMap::new();
    let chars: Vec<char> = folded.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        let run = chars[start..]
            .iter()
            .take_while(|c| c.is_alphanumeric())
            .count();
        for at in start..start + run {
            for len in [2, 3] {
                let Some(gram) = chars.get(at..at + len) else {
                    continue;
                };
                if at + len > start + run || (len == 3 && gram.iter().copied().any(is_wide)) {
                    continue;
                }
                *grams.entry(gram.iter().collect()).or_default() |= at == 0;
            }
        }
        start += run.max(1);
    }
    grams
}

/// The part of a domain a search looks in: all but its last label, or all but the default
/// tenant domain (`xinghe.partner.onmschina.cn` is searched as `xinghe`).
pub fn searched_domain(domain: &str) -> &str {
    domain
        .strip_suffix(TENANT_DOMAIN_SUFFIX)
        .or_else(|| domain.rsplit_once('.').map(|(head, _)| head))
        .unwrap_or(domain)
}

/// A customer's grams: those of its folded company name (marked when they begin it) and of its
/// domain.
pub fn customer_grams(company_name_key: &str, domain: &str) -> BTreeMap<String, bool> {
    let mut all = grams(company_name_key);
    for gram in grams(&fold(searched_domain(domain))).into_keys() {
        all.entry(gram).or_default();
    }
    all
}

/// Rows a multi-row insert carries at most: well under both engines' bound parameter limits.
const INSERT_BATCH: usize = 8_000;

/// Inserts `rows` into `table`'s `columns`, a batch per statement; rows already there are left
/// as they are.
pub async fn insert_rows(
    db: &impl ConnectionTrait,
    table: &'static str,
    columns: &[&'static str],
    rows: impl IntoIterator<Item = Vec<Value>>,
) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = Query::insert();
        insert
            .into_table(table)
            .columns(columns.iter().copied())
            .on_conflict(OnConflict::new().do_nothing().to_owned());
        for row in rows.by_ref().take(INSERT_BATCH) {
            insert.values_panic(row.into_iter().map(Expr::val));
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

/// Rows read per statement while the posting tables are filled.
const READ_BATCH: u64 = 5_000;

/// The rows of a statement read in batches, in the order of an id it selects as `id`.
struct Batches {
    select: SelectStatement,
    id: (&'static str, &'static str),
    after: Option<Value>,
}

impl Batches {
    /// `select`'s rows in batches, by `id` (a table and its id column).
    fn of(select: SelectStatement, id: (&'static str, &'static str)) -> Self {
        let mut select = select;
        select
            .order_by(id, sea_orm_migration::sea_orm::Order::Asc)
            .limit(READ_BATCH);
        Self {
            select,
            id,
            after: None,
        }
    }

    /// The next batch; `None` once every row was read.
    async fn next(&mut self, db: &impl ConnectionTrait) -> Result<Option<Vec<QueryResult>>, DbErr> {
        let mut select = self.select.clone();
        if let Some(after) = self.after.clone() {
            select.and_where(Expr::col(self.id).gt(after));
        }
        let rows = db.query_all(&select).await?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.after = Some(last.try_get::<Uuid>("", "id")?.into());
        Ok(Some(rows))
    }
}

/// Fills both posting tables from the customers and escalations stored, and makes every
/// customer's `company_name_key` its folded name. Runs once, in the migration that creates the
/// tables.
pub async fn reindex(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let customers = Query::select()
        .columns([
            "id",
            "partner_id",
            "company_name",
            "company_name_key",
            "domain",
        ])
        .from("customers")
        .take();
    let mut batches = Batches::of(customers, ("customers", "id"));
    while let Some(rows) = batches.next(db).await? {
        let mut postings = Vec::new();
        for row in &rows {
            let id: Uuid = row.try_get("", "id")?;
            let partner_id: Uuid = row.try_get("", "partner_id")?;
            let name: String = row.try_get("", "company_name")?;
            let domain: String = row.try_get("", "domain")?;
            let stored_key: String = row.try_get("", "company_name_key")?;
            let key = fold(&name);
            if key != stored_key {
                db.execute(
                    Query::update()
                        .table("customers")
                        .value("company_name_key", key.clone())
                        .and_where(Expr::col("id").eq(id)),
                )
                .await?;
            }
            postings.extend(customer_postings(id, partner_id, &key, &domain));
        }
        insert_rows(db, "customer_grams", &CUSTOMER_GRAM_COLUMNS, postings).await?;
    }
    let escalations = Query::select()
        .expr_as(Expr::col(("escalations", "id")), "id")
        .expr_as(Expr::col(("escalations", "partner_id")), "partner_id")
        .expr_as(Expr::col(("escalations", "title")), "title")
        .expr_as(Expr::col(("customers", "company_name_key")), "name_key")
        .expr_as(Expr::col(("customers", "domain")), "domain")
        .from("escalations")
        .inner_join(
            "customers",
            Expr::col(("customers", "id")).equals(("escalations", "customer_id")),
        )
        .take();
    let mut batches = Batches::of(escalations, ("escalations", "id"));
    while let Some(rows) = batches.next(db).await? {
        let mut postings = Vec::new();
        for row in &rows {
            let id: Uuid = row.try_get("", "id")?;
            let partner_id: Uuid = row.try_get("", "partner_id")?;
            let title: String = row.try_get("", "title")?;
            let name_key: String = row.try_get("", "name_key")?;
            let domain: String = row.try_get("", "domain")?;
            postings.extend(escalation_postings(
                id, partner_id, &title, &name_key, &domain,
            ));
        }
        insert_rows(db, "escalation_grams", &ESCALATION_GRAM_COLUMNS, postings).await?;
    }
    Ok(())
}

/// A customer's postings, as rows of `CUSTOMER_GRAM_COLUMNS`.
pub fn customer_postings(
    id: Uuid,
    partner_id: Uuid,
    company_name_key: &str,
    domain: &str,
) -> impl Iterator<Item = Vec<Value>> {
    customer_grams(company_name_key, domain)
        .into_iter()
        .map(move |(gram, starts_name)| {
            vec![
                gram.into(),
                partner_id.into(),
                starts_name.into(),
                id.into(),
            ]
        })
}

/// An escalation's postings, as rows of `ESCALATION_GRAM_COLUMNS`: its title's grams and its
/// customer's.
pub fn escalation_postings(
    id: Uuid,
    partner_id: Uuid,
    title: &str,
    company_name_key: &str,
    domain: &str,
) -> impl Iterator<Item = Vec<Value>> {
    let mut all = grams(&fold(title));
    all.extend(customer_grams(company_name_key, domain));
    all.into_keys()
        .map(move |gram| vec![gram.into(), partner_id.into(), id.into()])
}

pub const CUSTOMER_GRAM_COLUMNS: [&str; 4] = ["gram", "partner_id", "starts_name", "customer_id"];
pub const ESCALATION_GRAM_COLUMNS: [&str; 3] = ["gram", "partner_id", "escalation_id"];

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        grams(&fold(text)).into_keys().collect()
    }

    #[test]
    fn full_width_forms_fold_to_ordinary_lower_case() {
        assert_eq!(fold("Ｃｏｎｔｏｓｏ　ＬＴＤ"), "contoso ltd");
        assert_eq!(fold("深圳星河"), "深圳星河");
    }

    #[test]
    fn chinese_runs_are_cut_in_pairs_and_latin_in_pairs_and_triples() {
        assert_eq!(keys("星河物流"), ["星河", "河物", "物流"]);
        assert_eq!(keys("Abcd"), ["ab", "abc", "bc", "bcd", "cd"]);
        assert_eq!(keys("a b.c"), Vec::<String>::new());
        assert_eq!(keys("365邮件"), ["36", "365", "5邮", "65", "邮件"]);
    }

    #[test]
    fn only_grams_at_the_very_start_begin_the_text() {
        let grams = grams("深圳 深圳");
        assert_eq!(grams.get("深圳"), Some(&true));
        let grams = super::grams("(深圳)");
        assert_eq!(grams.get("深圳"), Some(&false));
    }

    #[test]
    fn the_default_tenant_domain_and_top_level_labels_are_not_searched() {
        assert_eq!(searched_domain("xinghe.partner.onmschina.cn"), "xinghe");
        assert_eq!(searched_domain("contoso.com.cn"), "contoso.com");
        assert_eq!(searched_domain("localhost"), "localhost");
        let grams = customer_grams("contoso", "contoso.partner.onmschina.cn");
        assert!(!grams.contains_key("onm"));
        assert_eq!(grams.get("con"), Some(&true));
    }
}
