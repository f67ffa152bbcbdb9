//! The top-level `solution:` key: which solution (and so which deployment) the config is for.
//! Optional; a solution name by the same rule as `--solution`, and the names derived for that
//! solution's deployment must be valid too, so a config that loads can always be deployed.

use super::super::yaml::{Entry, Pos};
use super::super::{Problem, ValidConfig};
use super::{Checker, Text};
use crate::naming::{self, NameError};

impl Checker {
    /// `solution`: unset (absent, `~` or `""`) or a valid solution name (`Err` when reported).
    pub(super) fn solution(&mut self, entry: Option<&Entry>) -> Result<Option<(String, Pos)>, ()> {
        let Some(entry) = entry else {
            return Ok(None);
        };
        let (name, pos) = match self.text("solution", &entry.value) {
            Text::Value(text, _) if text.is_empty() => return Ok(None),
            Text::Value(text, pos) => (text, pos),
            Text::Null => return Ok(None),
            Text::Bad => return Err(()),
        };
        match naming::validate_solution_name(&name) {
            Ok(()) => Ok(Some((name, pos))),
            Err(error) => {
                let rule = match error {
                    NameError::SolutionInvalid { rule, .. } => rule.to_owned(),
                    other => other.to_string(),
                };
                self.problem(
                    pos,
                    "solution",
                    Some(&name),
                    format!("is not a valid solution name: {rule}"),
                    "use 1-40 lowercase letters, digits and `-`, starting with a letter (e.g. solution: recommendation-engine), or remove the key for the shared bucket",
                );
                Err(())
            }
        }
    }
}

/// The names of the deployment the config's own solution selects must be valid (the shared
/// deployment's are checked on their own); reported at the `solution:` value.
pub(super) fn solution_names(config: &ValidConfig, pos: Pos) -> Result<(), Problem> {
    let Some(solution) = &config.solution else {
        return Ok(());
    };
    naming::deployment_for_solution(config, solution)
        .map(|_| ())
        .map_err(|error| {
            Problem::at(
                pos,
                "solution",
                Some(solution.clone()),
                format!("the names derived for this solution's deployment are invalid: {error}"),
                "use a shorter solution name, or set s3.bucket_name_override to a valid bucket name of at most 63 characters",
            )
        })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Error, from_bytes};

    const SITE: &str = "client:\n  company_name: Edge Corp\n  company_prefix: edge\n  account_id: \"123456789012\"\n  tenant_id: \"b001\"\nenvironment:\n  env: prod\n  region: us-west-1\n";

    fn load(extra: &str) -> Result<crate::config::ValidConfig, Error> {
        from_bytes(Path::new("site.yaml"), format!("{SITE}{extra}").as_bytes())
    }

    fn only_problem(extra: &str) -> crate::config::Problem {
        let problems = load(extra).unwrap_err().problems().to_vec();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        problems.into_iter().next().unwrap()
    }

    #[test]
    fn a_top_level_solution_is_the_configs_solution() {
        let config = load("solution: recommendation-engine\n").unwrap();
        assert_eq!(config.solution.as_deref(), Some("recommendation-engine"));
        for unset in ["", "solution:\n", "solution: \"\"\n", "solution: ~\n"] {
            assert_eq!(load(unset).unwrap().solution, None, "{unset:?}");
        }
    }

    #[test]
    fn the_solution_key_does_not_change_the_config_hash() {
        let with = load("solution: recommendation-engine\n").unwrap();
        let without = load("").unwrap();
        assert_eq!(with.normalised_sha256(), without.normalised_sha256());
    }

    #[test]
    fn a_bad_solution_name_is_reported_at_its_value() {
        let problem = only_problem("solution: Recommendation_Engine\n");
        assert_eq!(
            (problem.line, problem.column, problem.key_path.as_str()),
            (9, 11, "solution")
        );
        assert!(problem.rule.contains("lowercase"), "{problem:#?}");
        let problem = only_problem("solution: 42\n");
        assert!(problem.rule.contains("must be text"), "{problem:#?}");
        let problem = only_problem("solution:\n  name: x\n");
        assert!(problem.rule.contains("single value"), "{problem:#?}");
    }

    #[test]
    fn the_solutions_derived_names_must_be_valid() {
        // 40 characters: a valid solution name whose derived bucket name is over 63 characters.
        let long = "a".repeat(40);
        let problem = only_problem(&format!("solution: {long}\n"));
        assert_eq!(problem.key_path, "solution");
        assert!(problem.rule.contains("63"), "{problem:#?}");
        let fine = format!(
            "solution: {long}\ns3:\n  bucket_name_override: edge-prod-b001-long-solution\n"
        );
        assert!(load(&fine).is_ok());
    }

    #[test]
    fn solution_is_a_top_level_key_not_a_section_key() {
        let problem = only_problem("s3:\n  solution: recommendation-engine\n");
        assert_eq!(problem.key_path, "s3.solution");
        assert!(problem.fix.contains("top-level key"), "{problem:#?}");
    }
}
