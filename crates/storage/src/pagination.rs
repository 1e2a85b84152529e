//! Pages of a list, by cursor: the id of the last row seen, not an offset, so that rows added
//! meanwhile neither repeat nor vanish between pages (the Admin API's `page[…]` parameters).

use chrono::{DateTime, Utc};
use ulid::Ulid;

/// Which end of the list a page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The first `count` rows after the cursor, oldest first.
    Forward,
    /// The last `count` rows before the cursor, still given oldest first.
    Backward,
}

/// Which page to read: at most `count` rows with an id strictly between `after` and `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub after: Option<Ulid>,
    pub before: Option<Ulid>,
    pub count: usize,
    pub direction: Direction,
}

impl Pagination {
    /// The first `count` rows.
    #[must_use]
    pub const fn first(count: usize) -> Self {
        Self {
            after: None,
            before: None,
            count,
            direction: Direction::Forward,
        }
    }

    /// The last `count` rows.
    #[must_use]
    pub const fn last(count: usize) -> Self {
        Self {
            after: None,
            before: None,
            count,
            direction: Direction::Backward,
        }
    }

    /// Only rows after `id`.
    #[must_use]
    pub const fn after(mut self, id: Ulid) -> Self {
        self.after = Some(id);
        self
    }

    /// Only rows before `id`.
    #[must_use]
    pub const fn before(mut self, id: Ulid) -> Self {
        self.before = Some(id);
        self
    }

    /// How many rows to read: one more than the page holds, to learn whether more follow.
    #[must_use]
    pub const fn fetch(&self) -> usize {
        self.count.saturating_add(1)
    }

    /// The page out of the rows read (`fetch()` of them at most, in the order of the
    /// direction: ascending ids forward, descending backward).
    #[must_use]
    pub fn page<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let more = rows.len() > self.count;
        rows.truncate(self.count);
        match self.direction {
            Direction::Forward => Page {
                edges: rows,
                has_next_page: more,
                has_previous_page: false,
            },
            Direction::Backward => {
                rows.reverse();
                Page {
                    edges: rows,
                    has_next_page: false,
                    has_previous_page: more,
                }
            }
        }
    }
}

impl Pagination {
    /// The page out of every row, for short lists held in memory (the upstream providers of
    /// the configuration): the rows between the cursors, in the page's direction.
    #[must_use]
    pub fn select<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> Ulid) -> Page<T> {
        rows.retain(|row| {
            let id = id(row);
            self.after.is_none_or(|after| id > after)
                && self.before.is_none_or(|before| id < before)
        });
        rows.sort_by_key(|row| id(row));
        if self.direction == Direction::Backward {
            rows.reverse();
        }
        rows.truncate(self.fetch());
        self.page(rows)
    }
}

/// One page of rows, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub edges: Vec<T>,
    /// Reading forward, more rows follow the last one.
    pub has_next_page: bool,
    /// Reading backward, more rows precede the first one.
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// The same page with each row turned into something else.
    #[must_use]
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            edges: self.edges.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

/// What every kind of session is listed by; every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Sessions of this user.
    pub user: Option<Ulid>,
    /// `Some(true)`: standing; `Some(false)`: finished.
    pub active: Option<bool>,
    pub created_before: Option<DateTime<Utc>>,
    pub created_after: Option<DateTime<Utc>>,
    pub last_active_before: Option<DateTime<Utc>>,
    pub last_active_after: Option<DateTime<Utc>>,
    /// Sessions neither used nor started since this instant (a session never used counts
    /// from its start): those `experimental.inactive_session_expiration` ends.
    pub inactive_since: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_says_whether_more_rows_lie_in_its_direction() {
        let forward = Pagination::first(2);
        assert_eq!(
            forward.page(vec![1, 2, 3]),
            Page {
                edges: vec![1, 2],
                has_next_page: true,
                has_previous_page: false
            }
        );
        assert!(!forward.page(vec![1, 2]).has_next_page);

        // Backward, rows come newest first and the page is given oldest first.
        let backward = Pagination::last(2);
        assert_eq!(
            backward.page(vec![9, 8, 7]),
            Page {
                edges: vec![8, 9],
                has_next_page: false,
                has_previous_page: true
            }
        );
        assert!(!backward.page(vec![9]).has_previous_page);
    }

    #[test]
    fn rows_in_memory_are_paged_like_rows_in_a_table() {
        let ids: Vec<Ulid> = (1..=5).map(|n| Ulid::from_parts(n, 0)).collect();
        let page = Pagination::first(2)
            .after(ids[0])
            .select(ids.clone(), |id| *id);
        assert_eq!(page.edges, [ids[1], ids[2]]);
        assert!(page.has_next_page);
        let page = Pagination::last(2)
            .before(ids[4])
            .select(ids.clone(), |id| *id);
        assert_eq!(page.edges, [ids[2], ids[3]]);
        assert!(page.has_previous_page);
    }
}
