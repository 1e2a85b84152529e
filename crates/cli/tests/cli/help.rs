//! `docs/cli.md` matches `--help`: every command the binary offers, and every long option of
//! each, is documented there.

use crate::common::{mas_cli, run, stdout};

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(mas_cli(dir.path()).args(args).arg("--help"));
    assert!(output.status.success(), "{args:?}");
    stdout(&output)
}

/// The subcommands a help text lists (its `Commands:` section), without `help`.
fn subcommands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The long options a help text names, without `--help` and `--version`.
fn long_options(text: &str) -> Vec<String> {
    let mut options: Vec<String> = text
        .split_whitespace()
        .filter_map(|word| {
            let name: String = word
                .strip_prefix("--")?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty() && name != "help" && name != "version").then(|| format!("--{name}"))
        })
        .collect();
    options.sort();
    options.dedup();
    options
}

#[test]
fn every_command_and_option_of_the_help_is_in_the_cli_guide() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli.md"))
        .expect("docs/cli.md");
    let mut missing = Vec::new();
    for command in subcommands(&help(&[])) {
        let text = help(&[&command]);
        let nested = subcommands(&text);
        let leaves: Vec<Vec<String>> = if nested.is_empty() {
            vec![vec![command.clone()]]
        } else {
            nested
                .into_iter()
                .map(|sub| vec![command.clone(), sub])
                .collect()
        };
        for leaf in leaves {
            let args: Vec<&str> = leaf.iter().map(String::as_str).collect();
            let name = leaf.join(" ");
            if !guide.contains(&format!("`{name}")) && !guide.contains(&format!("## `{name}`")) {
                missing.push(format!("command `{name}`"));
            }
            for option in long_options(&help(&args)) {
                if !guide.contains(&option) {
                    missing.push(format!("{option} of `{name}`"));
                }
            }
        }
    }
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "documented in --help but not in docs/cli.md"
    );
}
