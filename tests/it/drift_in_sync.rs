//! check-drift end to end when CloudFormation's drift detection works, as on AWS: a deployment
//! on moto (so the live checks read a real bucket, its policy and its SSM parameters), with only
//! the three drift-detection calls answered by aws-smithy-mocks in AWS's shapes (moto has no drift
//! detection). Every other request passes through to moto.

use crate::support;

use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackDriftStatus};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_types::DateTime;
use s3_provisioner::actions::{self, Ctx, Dirs, RunOptions};
use s3_provisioner::cli::{Action, OutputFormat};
use s3_provisioner::exit::ExitStatus;
use s3_provisioner::output::{Output, OutputSettings};
use support::{MotoServer, Workdir, deploy_shared_site};

type Cfn = aws_sdk_cloudformation::Client;

const REGION: &str = "us-west-1";
const DETECTION: &str = "a1b2c3d4-0000-4000-8000-000000000001";

fn options(work: &Workdir) -> RunOptions {
    let root = work.path();
    RunOptions {
        action: Action::CheckDrift,
        solution: None,
        force: false,
        dirs: Dirs {
            configs: root.join("configs"),
            templates: root.join("templates"),
            policies: root.join("policies"),
            reports: root.join("reports"),
        },
        profile: None,
        timeout: Duration::from_mins(1),
        interrupts: s3_provisioner::stop::Interrupts::never(),
        detailed_exitcode: false,
        keep: false,
        test_id: None,
        keep_reports: 0,
        revert_drift: false,
        role: None,
        cfn_limits: s3_provisioner::aws::cfn::limit::CallLimits::default(),
        http_client: None,
    }
}

#[test]
fn detection_complete_and_in_sync_with_live_checks_passing_is_exit_0() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy_shared_site(&server, &work, "b001", REGION, "versioning: true");

    let stack = site.stack.clone();
    let detect = mock!(Cfn::detect_stack_drift)
        .match_requests(move |r| r.stack_name() == Some(stack.as_str()))
        .then_output(|| {
            DetectStackDriftOutput::builder()
                .stack_drift_detection_id(DETECTION)
                .build()
        });
    let stack_id = format!(
        "arn:aws:cloudformation:{REGION}:123456789012:stack/{}/1",
        site.stack
    );
    // In progress first, as AWS answers right after DetectStackDrift.
    let status = mock!(Cfn::describe_stack_drift_detection_status)
        .match_requests(|r| r.stack_drift_detection_id() == Some(DETECTION))
        .sequence()
        .output({
            let stack_id = stack_id.clone();
            move || {
                DescribeStackDriftDetectionStatusOutput::builder()
                    .stack_id(&stack_id)
                    .stack_drift_detection_id(DETECTION)
                    .detection_status(StackDriftDetectionStatus::DetectionInProgress)
                    .timestamp(DateTime::from_secs(1_767_225_600))
                    .build()
            }
        })
        .output(move || {
            DescribeStackDriftDetectionStatusOutput::builder()
                .stack_id(&stack_id)
                .stack_drift_detection_id(DETECTION)
                .detection_status(StackDriftDetectionStatus::DetectionComplete)
                .stack_drift_status(StackDriftStatus::InSync)
                .drifted_stack_resource_count(0)
                .timestamp(DateTime::from_secs(1_767_225_601))
                .build()
        })
        .build();
    // Filtered to MODIFIED and DELETED, an in-sync stack lists no resource.
    let drifts = mock!(Cfn::describe_stack_resource_drifts)
        .then_output(|| DescribeStackResourceDriftsOutput::builder().build());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (outcome, stdout, stderr) = runtime.block_on(async {
        let sdk = server.sdk_config(REGION).await;
        let mut aws = s3_provisioner::aws::AwsClients::from_sdk_config(&sdk);
        let interceptor = [&detect, &status, &drifts].iter().fold(
            MockResponseInterceptor::new()
                .rule_mode(RuleMode::MatchAny)
                .allow_passthrough(),
            |interceptor, rule: &&Rule| interceptor.with_rule(rule),
        );
        aws.cfn = Cfn::from_conf(
            aws_sdk_cloudformation::config::Builder::from(&sdk)
                .interceptor(interceptor)
                .build(),
        );
        let options = options(&work);
        let config =
            s3_provisioner::config::load(&work.path().join("configs").join(&site.config)).unwrap();
        let deployment = actions::deployment_for_run(&options, &config).unwrap();
        let (mut out, captured) = Output::captured(OutputSettings {
            format: OutputFormat::Text,
            no_color: true,
            quiet: false,
            verbose: 0,
        });
        let mut ctx = Ctx {
            config: &config,
            deployment: &deployment,
            options: &options,
            out: &mut out,
        };
        let outcome = actions::run_with_clients(&mut ctx, &aws).await.unwrap();
        (outcome, captured.stdout(), captured.stderr())
    });

    assert_eq!(outcome.status, ExitStatus::Success, "{stdout}\n{stderr}");
    assert_eq!(outcome.result["in_sync"], true);
    assert_eq!(outcome.result["cloudformation"]["outcome"], "completed");
    assert_eq!(outcome.result["cloudformation"]["stack_status"], "IN_SYNC");
    assert_eq!(outcome.result["findings"], serde_json::json!([]));
    assert!(
        stderr.contains("CloudFormation drift detection: IN_SYNC"),
        "{stderr}"
    );
    assert!(!stderr.contains("not available"), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "In sync: deployment {} matches its config (stack {}, bucket {}; checked: cloudformation, bucket,",
            site.bucket, site.stack, site.bucket
        )),
        "{stdout}"
    );
    assert_eq!(detect.num_calls(), 1);
    assert_eq!(status.num_calls(), 2);
    assert_eq!(drifts.num_calls(), 1);
}
