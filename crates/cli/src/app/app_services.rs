//! `matrix.app_service_config_files`: the homeserver's application service registration files,
//! read at start (and checked by `config check`) so that their bridges can sign users in with
//! `m.login.application_service`.

use std::path::Path;

use portcullis_config::{Problem, sections::matrix::MatrixConfig};
use portcullis_services::app_services::AppService;

/// Every registration file, read and parsed; each problem named by its key and file.
///
/// # Errors
/// One problem per file that cannot be read or parsed, and per `as_token` given twice.
pub fn load(matrix: &MatrixConfig, base_dir: &Path) -> Result<Vec<AppService>, Vec<Problem>> {
    let mut services: Vec<AppService> = Vec::new();
    let mut problems = Vec::new();
    for (index, file) in matrix.app_service_config_files.iter().enumerate() {
        let key = format!("matrix.app_service_config_files[{index}]");
        let path = base_dir.join(file);
        let parsed = std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))
            .and_then(|yaml| {
                AppService::parse(&yaml).map_err(|error| format!("{}: {error}", path.display()))
            });
        match parsed {
            Ok(service) => {
                if services.iter().any(|other| other.id == service.id) {
                    problems.push(Problem::error(
                        key,
                        format!(
                            "{}: another registration has the id {:?}",
                            path.display(),
                            service.id
                        ),
                    ));
                } else {
                    services.push(service);
                }
            }
            Err(message) => problems.push(Problem::error(key, message).with_hint(
                "list the same registration files as the homeserver's app_service_config_files",
            )),
        }
    }
    if problems.is_empty() {
        Ok(services)
    } else {
        Err(problems)
    }
}
