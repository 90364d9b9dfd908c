//! Suggestions (autocomplete): prefix lookups in the `suggest_*` term tables, which the triggers of
//! migration 0005 keep in step with datasets, tags, organizations and users.
//!
//! Every lookup is a few seeks in a primary-key index (`head, term, id`): a suggestion costs the same
//! whatever the size of the catalog. Ranking: terms that start the slug (or are the acronym) first,
//! then terms that start a later word; inside each group, term order (so an exact match comes before
//! longer ones, then alphabetical order).

use std::collections::HashSet;

use sqlx::Row;

use super::datasets::{DatasetRow, dataset_of};
use super::{Store, StoreResult, placeholders};

/// The longest stored term: longer prefixes are looked up by their first `TERM_LENGTH` characters.
pub const TERM_LENGTH: usize = 32;

/// What can be suggested by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestKind {
    Datasets,
    Organizations,
    Users,
}

impl SuggestKind {
    /// The term table and its id column (fixed names, never client text).
    fn table(self) -> (&'static str, &'static str) {
        match self {
            SuggestKind::Datasets => ("suggest_datasets", "dataset_id"),
            SuggestKind::Organizations => ("suggest_organizations", "org_id"),
            SuggestKind::Users => ("suggest_users", "user_id"),
        }
    }
}

/// The bounds of the terms starting with `prefix` (ASCII after folding): `[prefix, next)`.
fn range(prefix: &str) -> (String, String) {
    let mut chars: Vec<char> = prefix.chars().take(TERM_LENGTH).collect();
    let low: String = chars.iter().collect();
    let high = match chars.pop() {
        // The slug alphabet is ASCII: the next character is always a valid one.
        Some(last) => {
            let next = char::from_u32(last as u32 + 1).unwrap_or(char::MAX);
            chars.push(next);
            chars.into_iter().collect()
        }
        None => char::MAX.to_string(),
    };
    (low, high)
}

/// The table and column a lookup reads: `(head, term, <column>)` is a prefix of the table's primary key.
#[derive(Debug, Clone, Copy)]
struct Terms {
    table: &'static str,
    column: &'static str,
}

const TAG_TERMS: Terms = Terms {
    table: "suggest_tags",
    column: "tag",
};

impl Store {
    /// Up to `limit` `(term, value)` pairs of one `head` group in `[low, high)`, after `after` in
    /// `(term, value)` order. Each part of the query is a single-column range on the index (SQLite
    /// compares a row value by reading every equal key, so `(term, value) > (…)` would walk all the
    /// rows of a tag carried by many datasets): the rest of `after`'s term, then the terms after it.
    async fn terms_after(
        &self,
        terms: Terms,
        head: i64,
        (low, high): (&str, &str),
        after: Option<&(String, String)>,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let Terms { table, column } = terms;
        let select = format!("SELECT term, {column} AS value FROM {table} WHERE head = $1");
        let read = |rows: Vec<sqlx::any::AnyRow>| -> StoreResult<Vec<(String, String)>> {
            rows.iter()
                .map(|r| Ok((r.try_get("term")?, r.try_get("value")?)))
                .collect()
        };
        let Some((term, value)) = after else {
            let sql =
                format!("{select} AND term >= $2 AND term < $3 ORDER BY term, {column} LIMIT $4");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(head)
                .bind(low)
                .bind(high)
                .bind(limit)
                .fetch_all(&self.read)
                .await?;
            return read(rows);
        };
        // The rest of `after`'s term, then the next terms: each part an index range, one round trip.
        let sql = format!(
            "SELECT term, value FROM ({select} AND term = $2 AND {column} > $3
                 ORDER BY {column} LIMIT $5) AS same_term
             UNION ALL
             SELECT term, value FROM ({select} AND term > $2 AND term < $4
                 ORDER BY term, {column} LIMIT $5) AS next_terms
             ORDER BY term, value LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(head)
            .bind(term)
            .bind(value)
            .bind(high)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        read(rows)
    }

    /// Up to `limit` ids of `kind` with a term starting with `prefix` (already folded), best first.
    pub async fn suggest_ids(
        &self,
        kind: SuggestKind,
        prefix: &str,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let (table, column) = kind.table();
        let terms = Terms { table, column };
        let (low, high) = range(prefix);
        // One object has several terms (one per word): read a little more than asked, and go on
        // from the last term read until enough distinct ids are found.
        let batch = (limit * 2 + 8) as i64;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for head in [1_i64, 0] {
            let mut after = None;
            loop {
                let rows = self
                    .terms_after(terms, head, (&low, &high), after.as_ref(), batch)
                    .await?;
                let full = rows.len() as i64 == batch;
                for (_, id) in &rows {
                    if seen.insert(id.clone()) {
                        out.push(id.clone());
                        if out.len() >= limit {
                            return Ok(out);
                        }
                    }
                }
                match rows.into_iter().last() {
                    Some(last) if full => after = Some(last),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    /// Up to `limit` distinct tags of public datasets with a word starting with `prefix`, best first.
    /// A tag carried by many datasets has one row per dataset: each step seeks past them all.
    pub async fn suggest_tags(&self, prefix: &str, limit: usize) -> StoreResult<Vec<String>> {
        let (low, high) = range(prefix);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for head in [1_i64, 0] {
            let mut after = None;
            while out.len() < limit {
                let next = self
                    .terms_after(TAG_TERMS, head, (&low, &high), after.as_ref(), 1)
                    .await?;
                let Some(found) = next.into_iter().next() else {
                    break;
                };
                if seen.insert(found.1.clone()) {
                    out.push(found.1.clone());
                }
                after = Some(found);
            }
        }
        Ok(out)
    }

    /// Public datasets by id, in the order of `ids` (ids no longer public are left out).
    pub async fn public_datasets_by_ids(&self, ids: &[String]) -> StoreResult<Vec<DatasetRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT doc, doc_version, last_update FROM datasets
             WHERE id IN ({}) AND private = 0 AND deleted IS NULL AND archived IS NULL",
            placeholders(1, ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        let mut rows: Vec<DatasetRow> = q
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(dataset_of)
            .collect::<StoreResult<_>>()?;
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.dataset.id));
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn a_prefix_is_one_range() {
        assert_eq!(range("budg"), ("budg".into(), "budh".into()));
        assert_eq!(range("a-9"), ("a-9".into(), "a-:".into()));
        assert_eq!(range(""), (String::new(), char::MAX.to_string()));
        let long = "x".repeat(40);
        assert_eq!(range(&long).0.len(), super::TERM_LENGTH);
    }
}
