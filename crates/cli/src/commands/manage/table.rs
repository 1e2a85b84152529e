//! The plain-text tables the `list-*` commands print: a header row, columns padded to their
//! widest cell, and a line saying so when there is nothing to list.

/// `rows` under `headers`, or `empty` (e.g. "(no users)") after the headers when there are none.
pub fn render<const N: usize>(headers: [&str; N], rows: &[[String; N]], empty: &str) -> String {
    let mut widths = headers.map(|header| header.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let headers = headers.map(str::to_owned);
    for row in std::iter::once(&headers).chain(rows) {
        let line = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str(empty);
        out.push('\n');
    }
    out
}
