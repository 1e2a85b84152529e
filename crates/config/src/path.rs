//! Paths to options, spelled as operators read them: `http.listeners[0].binds[1].port`.

/// The path of `key` inside `parent` (`parent` may be empty for the root).
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The path of the item at `index` of the list at `parent`.
pub(crate) fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Renders segments under `root`.
pub(crate) fn render(root: &str, segments: &[Segment]) -> String {
    let mut out = root.to_owned();
    for segment in segments {
        match segment {
            Segment::Key(key) => out = join(&out, key),
            Segment::Index(i) => out = index(&out, *i),
        }
    }
    out
}

/// The segments of a path reported by `serde_path_to_error`.
pub(crate) fn from_error_path(path: &serde_path_to_error::Path) -> Vec<Segment> {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
            // Enum variants and unknown steps add nothing an operator would write.
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {
                None
            }
        })
        .collect()
}

/// The segments of a path reported by `serde_ignored`.
pub(crate) fn from_ignored_path(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut current = path;
    loop {
        match current {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                segments.push(Segment::Index(*index));
                current = parent;
            }
            serde_ignored::Path::Map { parent, key } => {
                segments.push(Segment::Key(key.clone()));
                current = parent;
            }
            // `Some` and newtypes are wrappers in the Rust types, not steps in the file.
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => current = parent,
        }
    }
    segments.reverse();
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_joined_by_dots_and_indexes_are_bracketed() {
        let segments = [
            Segment::Key("listeners".to_owned()),
            Segment::Index(0),
            Segment::Key("binds".to_owned()),
            Segment::Index(1),
            Segment::Key("port".to_owned()),
        ];
        assert_eq!(render("http", &segments), "http.listeners[0].binds[1].port");
    }
}
