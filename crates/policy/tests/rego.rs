//! Runs the default policy's own Rego unit tests (`policies/*_test.rego`): every `test_` rule
//! of every test package must evaluate to true.

use std::path::Path;

use portcullis_policy::DEFAULT_POLICY;
use regorus::Value;

#[test]
fn the_default_policy_passes_its_rego_tests() -> Result<(), String> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut engine = portcullis_policy::new_engine().map_err(|error| error.to_string())?;
    for (name, text) in DEFAULT_POLICY {
        engine
            .add_policy(name.to_owned(), text.to_owned())
            .map_err(|error| error.to_string())?;
    }
    let mut tests = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&directory)
        .map_err(|error| error.to_string())?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with("_test.rego"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).map_err(|error| error.to_string())?;
        let package = text
            .lines()
            .find_map(|line| line.strip_prefix("package "))
            .ok_or_else(|| format!("{}: no package", path.display()))?
            .trim()
            .to_owned();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("test_")
                && let Some(name) = rest.split_whitespace().next()
            {
                tests.push(format!("data.{package}.test_{name}"));
            }
        }
        engine
            .add_policy(path.display().to_string(), text)
            .map_err(|error| error.to_string())?;
    }
    assert!(tests.len() >= 20, "only {} tests found", tests.len());
    let mut failed = Vec::new();
    for test in &tests {
        match engine.eval_rule(test.clone()) {
            Ok(value) if value == Value::from(true) => {}
            Ok(value) => failed.push(format!("{test}: {value}")),
            Err(error) => failed.push(format!("{test}: {error}")),
        }
    }
    assert!(
        failed.is_empty(),
        "failed Rego tests:\n{}",
        failed.join("\n")
    );
    Ok(())
}
