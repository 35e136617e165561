//! Reading the posting tables of `migration::search_text`: which gram leads a search, and the
//! conditions that make a statement over customers or escalations read only their matches.
//!
//! A search reads one gram's postings in the order its answer is listed (each posting index
//! ends with the entity's id) and checks the query's other grams against the same entity, one
//! index probe each. The leading gram is the query's rarest, found by counting each gram's
//! postings up to `PROBE_CAP`: a broad gram (深圳, a city most names start with) never leads
//! when a narrow one (星河) is there.

use migration::search_text::{ESCALATION_GRAM_COLUMNS, fold, grams};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, InsertStatement, JoinType, Query, SelectStatement, UnionType,
};
use sea_orm::{Condition, ConnectionTrait, DbErr, ExprTrait, FromQueryResult, Order};
use uuid::Uuid;

use crate::domain::search::SearchText;

/// A posting table: its name, the column naming what a posting finds, and the flag its
/// all-partners index has between the gram and the entity, if any.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Postings {
    pub table: &'static str,
    pub entity: &'static str,
    pub flag: Option<&'static str>,
}

pub(crate) const CUSTOMERS: Postings = Postings {
    table: "customer_grams",
    entity: "customer_id",
    flag: Some("starts_name"),
};

pub(crate) const ESCALATIONS: Postings = Postings {
    table: "escalation_grams",
    entity: "escalation_id",
    flag: None,
};

/// The alias of the postings a search reads.
const LEAD: &str = "lead";

/// Postings counted per gram when choosing the one to lead: past this, a gram is broad, and
/// which of two broad grams leads matters little.
const PROBE_CAP: u64 = 1_000;

/// At most this many of a long query's grams are counted, spread over it.
const PROBES: usize = 6;

impl Postings {
    /// The gram a search of `text` reads the postings of: its only one, or its rarest among
    /// `partner_id`'s postings (all partners' when `None`), counted in one statement.
    pub(crate) async fn lead_gram(
        &self,
        db: &impl ConnectionTrait,
        text: &SearchText,
        partner_id: Option<Uuid>,
    ) -> Result<Option<String>, DbErr> {
        let grams = text.grams();
        if grams.len() <= 1 {
            return Ok(grams.first().cloned());
        }
        let step = grams.len().div_ceil(PROBES);
        let candidates: Vec<&String> = grams.iter().step_by(step).collect();
        let mut counts: Option<SelectStatement> = None;
        for (at, gram) in candidates.iter().enumerate() {
            let mut capped = Query::select();
            capped
                .expr(Expr::val(1))
                .from(Alias::new(self.table))
                .and_where(Expr::col(Alias::new("gram")).eq(gram.as_str()))
                .limit(PROBE_CAP);
            if let Some(partner_id) = partner_id {
                capped.and_where(Expr::col(Alias::new("partner_id")).eq(partner_id));
            }
            let count = Query::select()
                .expr_as(Expr::val(at as i64), Alias::new("probe"))
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("postings"))
                .from_subquery(capped, Alias::new(format!("capped_{at}")))
                .take();
            counts = Some(match counts {
                None => count,
                Some(mut union) => union.union(UnionType::All, count).take(),
            });
        }
        let counts = counts.expect("a query of two grams or more");
        let backend = db.get_database_backend();
        let rows = db.query_all_raw(backend.build(&counts)).await?;
        let mut rarest = (i64::MAX, 0usize);
        for row in rows {
            let probe: i64 = row.try_get("", "probe")?;
            let postings: i64 = row.try_get("", "postings")?;
            rarest = rarest.min((postings, probe as usize));
        }
        Ok(candidates.get(rarest.1).map(|gram| (*gram).clone()))
    }

    /// `query`, a statement over the entities' table (`entity_table`), read through the postings
    /// of `lead` (`partner_id`'s only, when given): joined to them as `LEAD`, and kept to the
    /// entities that also have every other gram of `text`.
    pub(crate) fn read_through(
        &self,
        query: &mut SelectStatement,
        entity_table: &'static str,
        text: &SearchText,
        lead: &str,
        partner_id: Option<Uuid>,
    ) {
        query
            .join_as(
                JoinType::InnerJoin,
                Alias::new(self.table),
                Alias::new(LEAD),
                self.lead(self.entity)
                    .equals((Alias::new(entity_table), Alias::new("id"))),
            )
            .and_where(self.lead("gram").eq(lead));
        if let Some(partner_id) = partner_id {
            query.and_where(self.lead("partner_id").eq(partner_id));
        }
        query.cond_where(self.has_all(text, Some(lead), (LEAD, self.entity)));
    }

    /// A column of the postings read, `LEAD`.
    pub(crate) fn lead(&self, column: &'static str) -> Expr {
        Expr::col((Alias::new(LEAD), Alias::new(column)))
    }

    /// The entity `entity` (a table and its id column) has every gram of `text` but `skip`: an
    /// index probe each.
    pub(crate) fn has_all(
        &self,
        text: &SearchText,
        skip: Option<&str>,
        entity: (&'static str, &'static str),
    ) -> Condition {
        let mut all = Condition::all();
        for (at, gram) in text
            .grams()
            .iter()
            .filter(|gram| Some(gram.as_str()) != skip)
            .enumerate()
        {
            let alias = Alias::new(format!("also_{at}"));
            let mut probe = Query::select();
            probe
                .expr(Expr::val(1))
                .from_as(Alias::new(self.table), alias.clone())
                .and_where(Expr::col((alias.clone(), Alias::new("gram"))).eq(gram.as_str()));
            // Both values of the flag, so the probe seeks its entity in the all-partners index
            // (gram, flag, entity) rather than reading every posting of the gram.
            if let Some(flag) = self.flag {
                probe.and_where(Expr::col((alias.clone(), Alias::new(flag))).is_in([true, false]));
            }
            // OFFSET keeps PostgreSQL from turning the probe into a join, which it may then
            // order by a cost it cannot know (grams of one word come together far more often
            // than chance would have it), reading every match to sort them: as a filter on the
            // postings read in order, it runs only until the page is full.
            probe
                .and_where(
                    Expr::col((alias, Alias::new(self.entity)))
                        .equals((Alias::new(entity.0), Alias::new(entity.1))),
                )
                .limit(1)
                .offset(0);
            all = all.add(Expr::exists(probe));
        }
        all
    }
}

/// The insert of a new escalation's postings: its title's grams, and its customer's, copied
/// from the customer's postings in the same statement.
pub(crate) fn escalation_postings_insert(
    escalation_id: Uuid,
    partner_id: Uuid,
    customer_id: Uuid,
    title: &str,
) -> InsertStatement {
    let customer = Alias::new(CUSTOMERS.table);
    let mut postings = Query::select()
        .column((customer.clone(), Alias::new("gram")))
        .expr(Expr::val(partner_id))
        .expr(Expr::val(escalation_id))
        .from(customer.clone())
        .and_where(Expr::col((customer, Alias::new(CUSTOMERS.entity))).eq(customer_id))
        .take();
    let title: Vec<String> = grams(&fold(title)).into_keys().collect();
    if !title.is_empty() {
        let titled = Alias::new("title_grams");
        postings.union(
            UnionType::Distinct,
            Query::select()
                .column((titled.clone(), Alias::new("column1")))
                .expr(Expr::val(partner_id))
                .expr(Expr::val(escalation_id))
                .from_values(title, titled)
                .take(),
        );
    }
    Query::insert()
        .into_table(Alias::new(ESCALATIONS.table))
        .columns(ESCALATION_GRAM_COLUMNS.map(Alias::new))
        .select_from(postings)
        .expect("three values for three columns")
        .take()
}

/// The rows a search's statement reads; none when nothing can match (no statement).
pub(crate) async fn matches<M: FromQueryResult>(
    db: &impl ConnectionTrait,
    statement: Option<SelectStatement>,
) -> Result<Vec<M>, DbErr> {
    match statement {
        Some(statement) => {
            let statement = db.get_database_backend().build(&statement);
            M::find_by_statement(statement).all(db).await
        }
        None => Ok(Vec::new()),
    }
}

/// The union of `branches`, each ordered and limited on its own, ordered by `keys` and
/// limited: the statement of a search read in several parts.
pub(crate) fn merged(
    branches: Vec<SelectStatement>,
    keys: &[(&'static str, Order)],
    limit: u64,
) -> SelectStatement {
    // Each branch is wrapped so that its own ORDER BY and LIMIT hold inside the union.
    let wrapped = |(at, branch): (usize, SelectStatement)| {
        Query::select()
            .column(Asterisk)
            .from_subquery(branch, Alias::new(format!("branch_{at}")))
            .take()
    };
    let mut branches = branches.into_iter().enumerate().map(wrapped);
    let mut union = branches.next().expect("one branch at least");
    for branch in branches {
        union.union(UnionType::All, branch);
    }
    let mut merged = Query::select();
    merged
        .column(Asterisk)
        .from_subquery(union, Alias::new("matches"));
    for (key, order) in keys {
        merged.order_by(Alias::new(*key), order.clone());
    }
    merged.limit(limit).take()
}
