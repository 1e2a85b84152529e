//! Lists read page by page with filters: the `WHERE` clause is assembled from the conditions a
//! filter sets, with numbered parameters bound in order on either backend.

use chrono::{DateTime, Utc};
use portcullis_storage::{Direction, Pagination, SessionFilter};
use ulid::Ulid;

/// A value bound to one parameter of a listing.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Id(Ulid),
    Time(DateTime<Utc>),
    Bool(bool),
    Text(String),
    Int(i64),
}

/// The conditions of a list query, with their parameters.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    /// Adds `clause`, in which each `?` stands for the next of `args`, in order.
    pub(crate) fn and(&mut self, clause: &str, args: impl IntoIterator<Item = Arg>) {
        let mut numbered = String::with_capacity(clause.len() + 4);
        let mut args = args.into_iter();
        for piece in clause.split_inclusive('?') {
            match piece.strip_suffix('?') {
                Some(before) => {
                    numbered.push_str(before);
                    let arg = args.next().expect("one argument per `?`");
                    self.args.push(arg);
                    numbered.push_str(&format!("${}", self.args.len()));
                }
                None => numbered.push_str(piece),
            }
        }
        assert!(args.next().is_none(), "one `?` per argument");
        self.clauses.push(numbered);
    }

    /// Adds `clause` when `flag` is set, its negation when it is unset.
    pub(crate) fn and_flag(&mut self, flag: Option<bool>, clause: &str) {
        match flag {
            Some(true) => self.and(clause, []),
            Some(false) => self.and(&format!("NOT ({clause})"), []),
            None => {}
        }
    }

    /// `column` strictly between the cursors of `pagination`.
    fn and_cursors(&mut self, column: &str, pagination: &Pagination) {
        if let Some(after) = pagination.after {
            self.and(&format!("{column} > ?"), [Arg::Id(after)]);
        }
        if let Some(before) = pagination.before {
            self.and(&format!("{column} < ?"), [Arg::Id(before)]);
        }
    }

    fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// `SELECT {columns} FROM {from}` with the conditions and the page's cursors, ordered by
    /// `id_column` in the page's direction, limited to one more row than the page holds.
    pub(crate) fn page_query(
        mut self,
        columns: &str,
        from: &str,
        id_column: &str,
        pagination: &Pagination,
    ) -> (String, Vec<Arg>) {
        self.and_cursors(id_column, pagination);
        let order = order(pagination);
        let limit = i64::try_from(pagination.fetch()).unwrap_or(i64::MAX);
        self.args.push(Arg::Int(limit));
        let sql = format!(
            "SELECT {columns} FROM {from}{} ORDER BY {id_column} {order} LIMIT ${}",
            self.where_clause(),
            self.args.len()
        );
        (sql, self.args)
    }

    /// The `window`-th row of `from` past the cursors of `pagination`, in its direction: its
    /// `id_column`, or none when fewer rows are left. Only the cursors are applied, so the
    /// statement reads `window` entries of the index on `id_column` and nothing else.
    pub(crate) fn window_edge_query(
        from: &str,
        id_column: &str,
        pagination: &Pagination,
        window: usize,
    ) -> (String, Vec<Arg>) {
        let mut conditions = Self::default();
        conditions.and_cursors(id_column, pagination);
        let offset = window.saturating_sub(1);
        let sql = format!(
            "SELECT {id_column} FROM {from}{} ORDER BY {id_column} {} LIMIT 1 OFFSET {offset}",
            conditions.where_clause(),
            order(pagination)
        );
        (sql, conditions.args)
    }

    /// [`Conditions::page_query`] for `limit` rows, the conditions applied behind a fence
    /// (an `OFFSET 0` the planner does not see through): the matching rows are found first
    /// and ordered after, rather than by walking `id_column`'s index until `limit` rows match,
    /// which the planner does expecting matches all along the way. On PostgreSQL they are
    /// found through the index that serves the conditions; on SQLite, by reading the table
    /// in its own order (`NOT INDEXED`), which costs less per row than following the index.
    pub(crate) fn fenced_page_query(
        mut self,
        fence: Fence,
        (columns, from, id_column): (&str, &str, &str),
        (pagination, limit): (&Pagination, usize),
    ) -> (String, Vec<Arg>) {
        self.and_cursors(id_column, pagination);
        self.args
            .push(Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        let (scan, offset) = match fence {
            Fence::Postgres => ("", "OFFSET 0"),
            Fence::Sqlite => (" NOT INDEXED", "LIMIT -1 OFFSET 0"),
        };
        let sql = format!(
            "SELECT {columns} FROM (SELECT {columns} FROM {from}{scan}{} {offset}) AS fenced \
             ORDER BY {id_column} {} LIMIT ${}",
            self.where_clause(),
            order(pagination),
            self.args.len()
        );
        (sql, self.args)
    }

    /// `SELECT COUNT(*) FROM {from}` with the conditions.
    pub(crate) fn count_query(self, from: &str) -> (String, Vec<Arg>) {
        (
            format!("SELECT COUNT(*) FROM {from}{}", self.where_clause()),
            self.args,
        )
    }

    /// The count of the rows of `from` that meet the conditions less those of them that also
    /// meet `excluded`: the rows that meet the conditions and not `excluded`, counted in two
    /// reads that an index can each serve where `excluded` holds for few rows (a partial
    /// index of them), rather than in one that tests `excluded` row by row. The parameters
    /// appear in both reads under the same numbers.
    pub(crate) fn count_excluding_query(self, from: &str, excluded: &str) -> (String, Vec<Arg>) {
        let conditions = self.where_clause();
        let joiner = if conditions.is_empty() {
            " WHERE"
        } else {
            " AND"
        };
        (
            format!(
                "SELECT (SELECT COUNT(*) FROM {from}{conditions}) \
                 - (SELECT COUNT(*) FROM {from}{conditions}{joiner} ({excluded}))"
            ),
            self.args,
        )
    }
}

/// The database a fenced query is written for (see [`Conditions::fenced_page_query`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fence {
    Postgres,
    Sqlite,
}

/// The order of ids a page is read in.
fn order(pagination: &Pagination) -> &'static str {
    match pagination.direction {
        Direction::Forward => "ASC",
        Direction::Backward => "DESC",
    }
}

/// The conditions every kind of session is listed by, on a table with `user_id`, `created_at`,
/// `finished_at` and `last_active_at` columns.
pub(crate) fn session_conditions(filter: &SessionFilter) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(user) = filter.user {
        conditions.and("user_id = ?", [Arg::Id(user)]);
    }
    match filter.active {
        Some(true) => conditions.and("finished_at IS NULL", []),
        Some(false) => conditions.and("finished_at IS NOT NULL", []),
        None => {}
    }
    let instants = [
        ("created_at < ?", filter.created_before),
        ("created_at > ?", filter.created_after),
        ("last_active_at < ?", filter.last_active_before),
        ("last_active_at > ?", filter.last_active_after),
        (
            "COALESCE(last_active_at, created_at) < ?",
            filter.inactive_since,
        ),
    ];
    for (clause, instant) in instants {
        if let Some(instant) = instant {
            conditions.and(clause, [Arg::Time(instant)]);
        }
    }
    conditions
}

/// Conditions that the space-separated scope in `column` holds every token of `scope`.
pub(crate) fn and_scope_holds(
    conditions: &mut Conditions,
    column: &str,
    scope: &portcullis_oauth::scope::Scope,
) {
    for token in scope.iter() {
        conditions.and(
            &format!("(' ' || {column} || ' ') LIKE ? ESCAPE '\\'"),
            [Arg::Text(format!("% {} %", escape_like(token.as_str())))],
        );
    }
}

/// `text` with the wildcards of `LIKE … ESCAPE '\'` taken literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `%text%` for `LIKE … ESCAPE '\'`, with the wildcards of `text` taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

/// Binds `args` in order to a runtime query of either backend.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::listing::Arg::Id(id) => query.bind($crate::types::DbId(id)),
                $crate::listing::Arg::Time(time) => query.bind($crate::types::DbTime(time)),
                $crate::listing::Arg::Bool(flag) => query.bind(flag),
                $crate::listing::Arg::Text(text) => query.bind(text),
                $crate::listing::Arg::Int(number) => query.bind(number),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// The row count of a `COUNT(*)` as a `usize`.
pub(crate) fn count(value: i64) -> usize {
    usize::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_the_order_they_are_added() {
        let mut conditions = Conditions::default();
        conditions.and("a = ?", [Arg::Bool(true)]);
        conditions.and("b BETWEEN ? AND ?", [Arg::Int(1), Arg::Int(2)]);
        let (sql, args) =
            conditions.page_query("x", "t", "id", &Pagination::last(10).after(Ulid::nil()));
        assert_eq!(
            sql,
            "SELECT x FROM t WHERE a = $1 AND b BETWEEN $2 AND $3 AND id > $4 ORDER BY id DESC LIMIT $5"
        );
        assert_eq!(args.len(), 5);
        assert!(matches!(args[4], Arg::Int(11)));
    }

    #[test]
    fn wildcards_in_a_search_are_literal() {
        assert_eq!(contains_pattern("a_b%c"), "%a\\_b\\%c%");
    }
}
