//! The local AWS a test runs against, chosen by `S3P_EMULATOR`: `moto` (the default: moto
//! through the project's launcher, [`MotoServer`]) or `localstack` ([`LocalStackServer`]).
//!
//! A test written against [`LocalAws`] runs unchanged on both, so CI can check the same steps
//! against two independent emulators (`.ci/run` runs the seed guide's test a second time with
//! `S3P_EMULATOR=localstack`). Where the emulators' behaviour differs, the test asks
//! [`LocalAws::emulator`] and says why next to the check it skips.
//!
//! ```ignore
//! let aws = support::LocalAws::start();
//! aws.command(work.path()).args(["--config", "x.yaml", "--action", "check-drift"]).assert();
//! ```

use std::path::Path;

use super::localstack::LocalStackServer;
use super::moto::MotoServer;

/// The environment variable that selects the emulator.
pub const EMULATOR_VAR: &str = "S3P_EMULATOR";

/// Which local AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emulator {
    Moto,
    LocalStack,
}

impl Emulator {
    /// The emulator `S3P_EMULATOR` names: unset or empty is moto. Panics on any other value, so
    /// a typo in CI cannot silently run moto twice.
    pub fn from_env() -> Emulator {
        let value = std::env::var(EMULATOR_VAR).unwrap_or_default();
        Emulator::parse(&value).unwrap_or_else(|| {
            panic!("{EMULATOR_VAR}={value:?} is not an emulator: use `moto` (the default) or `localstack`")
        })
    }

    /// `""`/`moto` or `localstack` (any case); `None` for anything else.
    pub fn parse(value: &str) -> Option<Emulator> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "moto" => Some(Emulator::Moto),
            "localstack" => Some(Emulator::LocalStack),
            _ => None,
        }
    }
}

/// A running local AWS of either kind, stopped when dropped.
pub enum LocalAws {
    Moto(MotoServer),
    LocalStack(LocalStackServer),
}

impl LocalAws {
    /// Start the emulator `S3P_EMULATOR` selects (see [`Emulator::from_env`]).
    pub fn start() -> LocalAws {
        LocalAws::start_emulator(Emulator::from_env())
    }

    /// Start a fresh server of `emulator` with its own state.
    pub fn start_emulator(emulator: Emulator) -> LocalAws {
        match emulator {
            Emulator::Moto => LocalAws::Moto(MotoServer::start()),
            Emulator::LocalStack => LocalAws::LocalStack(LocalStackServer::start()),
        }
    }

    pub fn emulator(&self) -> Emulator {
        match self {
            LocalAws::Moto(_) => Emulator::Moto,
            LocalAws::LocalStack(_) => Emulator::LocalStack,
        }
    }

    /// The `s3-provisioner` binary, run in `workdir`, talking to this server, without colour.
    pub fn command(&self, workdir: &Path) -> assert_cmd::Command {
        match self {
            LocalAws::Moto(server) => server.command(workdir),
            LocalAws::LocalStack(server) => server.command(workdir),
        }
    }

    /// The tool's clients, built the way the tool builds them, pointing at this server.
    pub async fn clients(&self, region: &str) -> s3_provisioner::aws::AwsClients {
        match self {
            LocalAws::Moto(server) => server.clients(region).await,
            LocalAws::LocalStack(server) => server.clients(region).await,
        }
    }
}

/// A way an emulator's CloudFormation falls short of AWS that the tool's checks (test-deploy's
/// checks, check-drift's live checks) then report as a finding on every deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownGap {
    /// The check that reports it (`FAIL <check>` in test-deploy, `(<check>, …)` in check-drift).
    pub check: &'static str,
    /// The finding's PROPERTY column.
    pub property: &'static str,
    /// The finding's ACTUAL column.
    pub actual: &'static str,
}

/// LocalStack 4.9.2's CloudFormation creates an `AWS::S3::Bucket` without its
/// `LifecycleConfiguration` and without `BucketKeyEnabled`; AWS applies both (CloudFormation's
/// `AWS::S3::Bucket` reference), and so does moto through the launcher. For a site with the
/// `ml-optimized` preset (the seed guide's) these are the two findings.
const LOCALSTACK_GAPS: [KnownGap; 2] = [
    KnownGap {
        check: "encryption",
        property: "BucketEncryption.ServerSideEncryptionConfiguration",
        actual: "AES256 BucketKeyEnabled=false",
    },
    KnownGap {
        check: "lifecycle",
        property: "LifecycleConfiguration.Rules[ml-optimized]",
        actual: "(absent)",
    },
];

/// The SOURCE column values of a finding row.
const FINDING_SOURCES: [&str; 3] = ["live", "cloudformation", "blueprint"];

/// The finding rows (RESOURCE PROPERTY EXPECTED ACTUAL SOURCE) of the tool's text output.
pub fn finding_rows(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.starts_with("RESOURCE ")
                && line
                    .rsplit(' ')
                    .next()
                    .is_some_and(|last| FINDING_SOURCES.contains(&last))
                && line.split_whitespace().count() >= 5
        })
        .collect()
}

impl LocalAws {
    /// What this emulator's CloudFormation is known not to apply for a site with the seed
    /// guide's settings (`lifecycle_policy: ml-optimized`): empty for moto.
    pub fn known_gaps(&self) -> &'static [KnownGap] {
        match self {
            LocalAws::Moto(_) => &[],
            LocalAws::LocalStack(_) => &LOCALSTACK_GAPS,
        }
    }

    /// Assert that the findings in the tool's text output `stdout` are exactly this emulator's
    /// [`LocalAws::known_gaps`], one row each: on moto no finding at all, on LocalStack those two
    /// and nothing else (every other check must still pass).
    pub fn assert_findings_are_known_gaps(&self, stdout: &str) {
        let rows = finding_rows(stdout);
        let gaps = self.known_gaps();
        assert_eq!(
            rows.len(),
            gaps.len(),
            "{:?}: expected only the findings of its known gaps {gaps:?}, got:\n{stdout}",
            self.emulator()
        );
        for gap in gaps {
            assert!(
                rows.iter().any(|row| {
                    let columns: Vec<&str> = row.split_whitespace().collect();
                    columns.get(1) == Some(&gap.property) && row.contains(gap.actual)
                }),
                "{:?}: no finding for its known gap {gap:?} in:\n{stdout}",
                self.emulator()
            );
        }
    }
}
