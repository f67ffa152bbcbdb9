//! A local AWS that answers nothing: the tool pointed at a loopback port where nothing listens.
//! A test that must prove "no AWS call was made" (a refusal before the first request, a local
//! check) runs against it instead of starting moto: any request would fail the run with
//! "could not be reached" (exit 1), so a run that ends otherwise made none.

use std::net::TcpListener;
use std::path::Path;

use super::MotoServer;

/// `http://127.0.0.1:PORT` for a port that was free a moment ago and has no listener now.
pub fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
    drop(listener);
    endpoint
}

/// The `s3-provisioner` binary, run in `workdir` with test credentials and every AWS endpoint at
/// [`closed_endpoint`], without colour.
pub fn closed_port_command(workdir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s3-provisioner"));
    cmd.current_dir(workdir);
    for key in MotoServer::ENV_REMOVE {
        cmd.env_remove(key);
    }
    cmd.envs([
        ("AWS_ENDPOINT_URL", closed_endpoint().as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("NO_COLOR", "1"),
    ]);
    cmd
}

/// Whether a run's stderr shows that it tried to reach AWS.
pub fn tried_aws(stderr: &str) -> bool {
    stderr.contains("could not be reached")
}
