//! `s3-provisioner` binary: parse the command line, start diagnostics, run, exit.

use std::process::ExitCode;

use s3_provisioner::cli::{self, Invocation, OutputFormat};
use s3_provisioner::output::{Output, OutputSettings};

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Invocation::Run(cli) => cli,
        Invocation::Print(text) => {
            let mut out = Output::to_terminal(OutputSettings {
                format: OutputFormat::Text,
                no_color: true,
                quiet: false,
                verbose: 0,
            });
            out.print_document(text.trim_end());
            return ExitCode::SUCCESS;
        }
    };
    init_tracing(
        cli.verbose,
        s3_provisioner::output::color_allowed(cli.no_color),
    );
    // Local actions need no thread pool; AWS actions overlap many requests.
    let runtime = if cli.action.uses_aws() {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    match runtime {
        Ok(runtime) => {
            let status = runtime.block_on(s3_provisioner::run(*cli));
            // A question abandoned by Ctrl-C leaves its blocking stdin read behind: do not wait
            // for it (or for anything else) on the way out.
            runtime.shutdown_background();
            status.into()
        }
        Err(error) => {
            #[allow(clippy::print_stderr, clippy::disallowed_macros)] // Output does not exist yet.
            {
                eprintln!("error: cannot start the async runtime: {error}");
            }
            ExitCode::from(1)
        }
    }
}

/// Diagnostics (`tracing`) go to stderr: off by default, `-v` info, `-vv` debug; `RUST_LOG` wins.
/// Coloured by the same rule as all other output (`color`).
fn init_tracing(verbose: u8, color: bool) {
    let default = match verbose {
        0 => "off",
        1 => "s3_provisioner=info",
        _ => "s3_provisioner=debug,aws_config=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(color)
        .init();
}
