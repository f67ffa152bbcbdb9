"""Tests of the moto launcher itself: one test class per patch in the launcher's patch table
(moto_launcher.py module doc), each checking the AWS behaviour the patch follows through boto3.

Run by tests/it/moto_launcher.rs with the project's venv python:

    python tests/it/support/moto_launcher_test.py

One patched moto server runs in this process for the whole module (the launcher's patches are
class-level, so they apply to it exactly as to the launcher's own server); every test starts
from an empty state (moto's reset API). Without a patch, its test fails against plain moto.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import unittest
import urllib.request
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import moto_launcher  # noqa: E402

REGION = "us-east-1"
ENDPOINT = ""


def setUpModule() -> None:  # noqa: N802 - unittest's name
    global ENDPOINT
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_launcher.install_patches()
    # Import CloudFormation (and so every moto service) now, not inside the first request, where
    # it can outlast the client's read timeout on a loaded machine; the import hook patches it.
    import moto.cloudformation.responses  # noqa: F401
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    ENDPOINT = f"http://{host}:{port}"


def client(service: str) -> Any:
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # A loaded test machine can be slow; a retry would hide a launcher error.
        config=Config(read_timeout=300, retries={"max_attempts": 1}),
    )


class LauncherTest(unittest.TestCase):
    def setUp(self) -> None:
        request = urllib.request.Request(f"{ENDPOINT}/moto-api/reset", method="POST")
        urllib.request.urlopen(request).read()  # noqa: S310 - loopback moto server
        self.s3 = client("s3")

    def assert_error(self, call: Any, code: str, *args: Any, **kwargs: Any) -> ClientError:
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        self.assertEqual(caught.exception.response["Error"]["Code"], code, caught.exception)
        return caught.exception

    def tags(self, bucket: str) -> dict[str, str]:
        try:
            tag_set = self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchTagSet":
                return {}
            raise
        return {t["Key"]: t["Value"] for t in tag_set}


class BucketTagsGoWithTheBucket(LauncherTest):
    """moto kept a deleted bucket's tags; a bucket re-created under the name inherited them."""

    def test_a_recreated_bucket_has_no_tags(self) -> None:
        self.s3.create_bucket(Bucket="tagged")
        self.s3.put_bucket_tagging(
            Bucket="tagged",
            Tagging={"TagSet": [{"Key": "s3-provisioner:deployment", "Value": "x"}]},
        )
        self.assertEqual(self.tags("tagged"), {"s3-provisioner:deployment": "x"})
        self.s3.delete_bucket(Bucket="tagged")
        self.s3.create_bucket(Bucket="tagged")
        self.assert_error(self.s3.get_bucket_tagging, "NoSuchTagSet", Bucket="tagged")

    def test_a_bucket_that_holds_objects_keeps_its_tags(self) -> None:
        self.s3.create_bucket(Bucket="full")
        self.s3.put_bucket_tagging(Bucket="full", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        self.s3.put_object(Bucket="full", Key="a", Body=b"x")
        self.assert_error(self.s3.delete_bucket, "BucketNotEmpty", Bucket="full")
        self.assertEqual(self.tags("full"), {"k": "v"})


BUCKET_TEMPLATE = {
    "Resources": {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": "cfn-bucket",
                "Tags": [{"Key": "s3-provisioner:deployment", "Value": "d"}],
            },
        }
    }
}


def create_stack(template: dict[str, Any], name: str = "stack") -> None:
    client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


class SystemTagsCannotBeDropped(LauncherTest):
    """moto accepted a PutBucketTagging that drops the aws:cloudformation:* tags."""

    def test_put_bucket_tagging_without_the_system_tags_is_invalid(self) -> None:
        create_stack(BUCKET_TEMPLATE)
        before = self.tags("cfn-bucket")
        self.assertEqual(before["aws:cloudformation:logical-id"], "Bucket")
        error = self.assert_error(
            self.s3.put_bucket_tagging,
            "InvalidTag",
            Bucket="cfn-bucket",
            Tagging={"TagSet": [{"Key": "s3-provisioner:deployment", "Value": "d"}]},
        )
        self.assertIn("System tags", str(error))
        self.assertEqual(self.tags("cfn-bucket"), before)

    def test_writing_the_system_tags_back_is_invalid_too(self) -> None:
        create_stack(BUCKET_TEMPLATE)
        tag_set = [{"Key": k, "Value": v} for k, v in self.tags("cfn-bucket").items()]
        self.assert_error(
            self.s3.put_bucket_tagging,
            "InvalidTag",
            Bucket="cfn-bucket",
            Tagging={"TagSet": tag_set + [{"Key": "Owner", "Value": "x"}]},
        )

    def test_tag_resources_adds_a_tag_and_keeps_the_system_tags(self) -> None:
        create_stack(BUCKET_TEMPLATE)
        before = self.tags("cfn-bucket")
        tagging = client("resourcegroupstaggingapi")
        answer = tagging.tag_resources(
            ResourceARNList=["arn:aws:s3:::cfn-bucket"], Tags={"Owner": "someone-else"}
        )
        self.assertEqual(answer["FailedResourcesMap"], {})
        self.assertEqual(self.tags("cfn-bucket"), {**before, "Owner": "someone-else"})

    def test_a_bucket_without_system_tags_takes_any_tag_set(self) -> None:
        self.s3.create_bucket(Bucket="plain")
        for value in ("a", "b"):
            self.s3.put_bucket_tagging(
                Bucket="plain", Tagging={"TagSet": [{"Key": "k", "Value": value}]}
            )
        self.assertEqual(self.tags("plain"), {"k": "b"})

    def test_cloudformation_still_updates_the_tags_it_owns(self) -> None:
        create_stack(BUCKET_TEMPLATE)
        updated = json.loads(json.dumps(BUCKET_TEMPLATE))
        updated["Resources"]["Bucket"]["Properties"]["Tags"][0]["Value"] = "e"
        client("cloudformation").update_stack(StackName="stack", TemplateBody=json.dumps(updated))
        tags = self.tags("cfn-bucket")
        self.assertEqual(tags["s3-provisioner:deployment"], "e")
        self.assertEqual(tags["aws:cloudformation:stack-name"], "stack")


def tls_only_policy(bucket: str, operator: str = "Bool", value: Any = "false") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {operator: {"aws:SecureTransport": value}},
            }
        ],
    }


class ConditionsFollowIam(unittest.TestCase):
    """conditions_hold: IAM's rules, and a loud failure for what is not modelled (moto's own
    engine ignored Bool; the launcher's first version skipped unknown operators and missing
    keys)."""

    def holds(self, block: dict[str, Any]) -> bool:
        return moto_launcher.conditions_hold(block)

    def test_bool_and_strings_compare_the_request_context(self) -> None:
        self.assertFalse(self.holds({"Bool": {"aws:SecureTransport": "false"}}))
        self.assertTrue(self.holds({"Bool": {"aws:SecureTransport": "TRUE"}}))
        self.assertTrue(self.holds({"StringEquals": {"aws:SecureTransport": ["x", "true"]}}))
        self.assertFalse(self.holds({"StringNotEquals": {"aws:SecureTransport": ["x", "true"]}}))
        self.assertTrue(self.holds({"StringLike": {"aws:SecureTransport": "t?u*"}}))
        self.assertFalse(self.holds({"StringNotLike": {"aws:SecureTransport": "*"}}))
        self.assertTrue(self.holds({"StringEqualsIgnoreCase": {"aws:SecureTransport": "True"}}))

    def test_a_missing_key_fails_positive_operators_and_passes_negated_ones(self) -> None:
        self.assertFalse(self.holds({"StringEquals": {"aws:SourceVpce": "vpce-1"}}))
        self.assertFalse(self.holds({"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
        self.assertTrue(self.holds({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}))
        self.assertTrue(self.holds({"StringNotLike": {"aws:SourceVpce": "vpce-*"}}))
        self.assertTrue(self.holds({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}))
        self.assertTrue(self.holds({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}))

    def test_every_operator_and_key_must_hold(self) -> None:
        self.assertFalse(
            self.holds(
                {
                    "Bool": {"aws:SecureTransport": "true"},
                    "StringEquals": {"aws:SourceVpce": "vpce-1"},
                }
            )
        )

    def test_unmodelled_operators_raise_and_unknown_ones_are_malformed(self) -> None:
        for operator in ("NumericLessThan", "IpAddress", "ForAnyValue:StringEquals", "Null"):
            with self.assertRaises(moto_launcher.UnmodelledPolicy, msg=operator):
                self.holds({operator: {"aws:SourceIp": "1"}})
        for operator in ("StringEqual", "NullIfExists", "Boolean"):
            with self.assertRaises(ValueError, msg=operator):
                self.holds({operator: {"aws:SecureTransport": "true"}})


class BucketPoliciesAreValidatedAndEnforced(LauncherTest):
    """moto stored any PutBucketPolicy body and ignored BlockPublicPolicy."""

    def put_policy(self, bucket: str, document: Any) -> None:
        body = document if isinstance(document, str) else json.dumps(document)
        self.s3.put_bucket_policy(Bucket=bucket, Policy=body)

    def test_the_tls_only_policy_allows_requests_over_tls(self) -> None:
        self.s3.create_bucket(Bucket="tls")
        self.put_policy("tls", tls_only_policy("tls"))
        self.s3.put_object(Bucket="tls", Key="a", Body=b"x")

    def test_a_deny_on_a_missing_key_with_a_negated_operator_denies(self) -> None:
        self.s3.create_bucket(Bucket="vpce")
        policy = tls_only_policy("vpce")
        policy["Statement"][0]["Condition"] = {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}
        self.put_policy("vpce", policy)
        with self.assertRaises(ClientError) as caught:
            self.s3.put_object(Bucket="vpce", Key="a", Body=b"x")
        # moto answers this denial with a bare 403 (no error body).
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)

    def test_malformed_policies_are_refused(self) -> None:
        self.s3.create_bucket(Bucket="bad")
        good = tls_only_policy("bad")
        cases: list[Any] = ["not json", "{not json"]
        for field in ("Effect", "Principal", "Action", "Resource"):
            broken = json.loads(json.dumps(good))
            del broken["Statement"][0][field]
            cases.append(broken)
        other_bucket = json.loads(json.dumps(good))
        other_bucket["Statement"][0]["Resource"] = "arn:aws:s3:::someone-else/*"
        cases.append(other_bucket)
        cases.append(tls_only_policy("bad", operator="StringEqual"))
        for case in cases:
            self.assert_error(self.put_policy, "MalformedPolicy", "bad", case)
        self.assert_error(self.s3.get_bucket_policy, "NoSuchBucketPolicy", Bucket="bad")

    def test_a_policy_the_launcher_cannot_evaluate_is_refused_loudly(self) -> None:
        self.s3.create_bucket(Bucket="numeric")
        error = self.assert_error(
            self.put_policy,
            "NotImplemented",
            "numeric",
            tls_only_policy("numeric", operator="NumericLessThan", value="1"),
        )
        self.assertIn("moto launcher does not evaluate", str(error))
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 501)

    def test_block_public_policy_refuses_a_public_policy(self) -> None:
        self.s3.create_bucket(Bucket="pab")
        self.s3.put_public_access_block(
            Bucket="pab",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        public = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::pab/*",
                }
            ],
        }
        error = self.assert_error(self.put_policy, "AccessDenied", "pab", public)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        # Pinned to one VPC endpoint it is not public; a Deny never is.
        public["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceVpce": "vpce-1"}}
        self.put_policy("pab", public)
        self.put_policy("pab", tls_only_policy("pab"))

    def test_without_block_public_policy_a_public_policy_is_accepted(self) -> None:
        self.s3.create_bucket(Bucket="open")
        public = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::open/*",
                }
            ]
        }
        self.put_policy("open", public)


class MetadataAloneIsNoChange(LauncherTest):
    """moto made a change set (and updated the stack) for a Metadata- or Outputs-only change."""

    def change_set(self, template: dict[str, Any], **extra: Any) -> dict[str, Any]:
        cfn = client("cloudformation")
        cfn.create_change_set(
            StackName="stack",
            ChangeSetName="preview",
            TemplateBody=json.dumps(template),
            ChangeSetType="UPDATE",
            **extra,
        )
        answer = cfn.describe_change_set(StackName="stack", ChangeSetName="preview")
        cfn.delete_change_set(StackName="stack", ChangeSetName="preview")
        return answer

    def template(self, metadata: str, bucket_tag: str = "d", output: bool = False) -> Any:
        template = json.loads(json.dumps(BUCKET_TEMPLATE))
        template["Metadata"] = {"S3Provisioner": {"ConfigSha256": metadata}}
        template["Resources"]["Bucket"]["Properties"]["Tags"][0]["Value"] = bucket_tag
        if output:
            template["Outputs"] = {"Name": {"Value": {"Ref": "Bucket"}}}
        return template

    def test_a_metadata_or_outputs_only_change_fails_as_empty(self) -> None:
        create_stack(self.template("old"))
        for template in (self.template("new"), self.template("old", output=True)):
            answer = self.change_set(template)
            self.assertEqual(answer["Status"], "FAILED")
            self.assertIn("didn't contain changes", answer["StatusReason"])

    def test_metadata_with_a_resource_or_tag_change_is_a_change(self) -> None:
        create_stack(self.template("old"))
        answer = self.change_set(self.template("new", bucket_tag="e"))
        self.assertEqual(answer["Status"], "CREATE_COMPLETE")
        answer = self.change_set(self.template("new"), Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(answer["Status"], "CREATE_COMPLETE")


class EveryBucketIsEncrypted(LauncherTest):
    """moto's buckets had no default encryption; DeleteBucketEncryption removed it."""

    SSE_S3 = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}

    def rule(self, bucket: str) -> dict[str, Any]:
        rules = self.s3.get_bucket_encryption(Bucket=bucket)[
            "ServerSideEncryptionConfiguration"
        ]["Rules"]
        self.assertEqual(len(rules), 1)
        return rules[0]

    def test_a_new_bucket_has_sse_s3(self) -> None:
        self.s3.create_bucket(Bucket="new")
        self.assertEqual(self.rule("new"), {**self.SSE_S3, "BucketKeyEnabled": False})

    def test_delete_bucket_encryption_resets_to_sse_s3(self) -> None:
        self.s3.create_bucket(Bucket="kms")
        self.s3.put_bucket_encryption(
            Bucket="kms",
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        self.assertEqual(
            self.rule("kms")["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "aws:kms"
        )
        self.s3.delete_bucket_encryption(Bucket="kms")
        self.assertEqual(self.rule("kms"), {**self.SSE_S3, "BucketKeyEnabled": False})


def policy_template(versioning: str, policy_bucket: str) -> dict[str, Any]:
    """A bucket and its policy; a policy_bucket other than cfn-bucket makes the policy invalid."""
    return {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": "cfn-bucket",
                    "VersioningConfiguration": {"Status": versioning},
                },
            },
            "BucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": tls_only_policy(policy_bucket),
                },
            },
        }
    }


class FailuresRollBackAsOnAws(LauncherTest):
    """moto let a resource error fail the API call; the first launcher reported
    UPDATE_ROLLBACK_COMPLETE with resources left half-updated, and stack-level *_FAILED events."""

    def events(self) -> list[dict[str, Any]]:
        answer = client("cloudformation").describe_stack_events(StackName="stack")
        return list(reversed(answer["StackEvents"]))  # oldest first

    def status(self) -> str:
        return client("cloudformation").describe_stacks(StackName="stack")["Stacks"][0][
            "StackStatus"
        ]

    def test_a_failed_update_restores_the_resources_and_names_the_failing_one(self) -> None:
        create_stack(policy_template("Enabled", "cfn-bucket"))
        cfn = client("cloudformation")
        cfn.create_change_set(
            StackName="stack",
            ChangeSetName="bad",
            TemplateBody=json.dumps(policy_template("Suspended", "someone-else")),
            ChangeSetType="UPDATE",
        )
        cfn.execute_change_set(StackName="stack", ChangeSetName="bad")
        self.assertEqual(self.status(), "UPDATE_ROLLBACK_COMPLETE")
        # The bucket was updated before the policy failed; the rollback undid it.
        self.assertEqual(self.s3.get_bucket_versioning(Bucket="cfn-bucket")["Status"], "Enabled")
        policy = json.loads(self.s3.get_bucket_policy(Bucket="cfn-bucket")["Policy"])
        self.assertIn("arn:aws:s3:::cfn-bucket", policy["Statement"][0]["Resource"])
        failed = [e for e in self.events() if e["ResourceStatus"] == "UPDATE_FAILED"]
        self.assertEqual([e["LogicalResourceId"] for e in failed], ["BucketPolicy"])
        self.assertEqual(failed[0]["ResourceType"], "AWS::S3::BucketPolicy")
        self.assertIn("invalid resource", failed[0]["ResourceStatusReason"])
        rollback = next(
            e for e in self.events() if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"
        )
        self.assertEqual(rollback["LogicalResourceId"], "stack")
        self.assertIn("failed to update: [BucketPolicy]", rollback["ResourceStatusReason"])

    def test_a_failed_create_rolls_back_with_a_per_resource_event(self) -> None:
        self.s3.create_bucket(Bucket="cfn-bucket")  # the name is taken
        create_stack(BUCKET_TEMPLATE)
        self.assertEqual(self.status(), "ROLLBACK_COMPLETE")
        failed = [e for e in self.events() if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual([e["LogicalResourceId"] for e in failed], ["Bucket"])
        self.assertEqual(failed[0]["ResourceType"], "AWS::S3::Bucket")


class ChangeSetDetailsAsOnAws(LauncherTest):
    """moto set only Action, LogicalResourceId and ResourceType; the first launcher marked
    every detail Static and missed the resources that refer to a replaced one."""

    def template(self, bucket_name: str, versioning: str = "Enabled") -> dict[str, Any]:
        template = policy_template(versioning, "cfn-bucket")
        template["Resources"]["Bucket"]["Properties"]["BucketName"] = bucket_name
        policy = template["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]
        policy["Statement"][0]["Resource"] = [
            {"Fn::GetAtt": ["Bucket", "Arn"]},
            {"Fn::Sub": "${Bucket.Arn}/*"},
        ]
        template["Resources"]["NameParameter"] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "/p/name", "Type": "String", "Value": {"Ref": "Bucket"}},
        }
        return template

    def changes(self, template: dict[str, Any]) -> dict[str, dict[str, Any]]:
        cfn = client("cloudformation")
        cfn.create_change_set(
            StackName="stack",
            ChangeSetName="next",
            TemplateBody=json.dumps(template),
            ChangeSetType="UPDATE",
        )
        answer = cfn.describe_change_set(
            StackName="stack", ChangeSetName="next", IncludePropertyValues=True
        )
        return {
            c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in answer["Changes"]
        }

    def test_a_direct_literal_change_is_static(self) -> None:
        create_stack(self.template("cfn-bucket"))
        changes = self.changes(self.template("cfn-bucket", versioning="Suspended"))
        self.assertEqual(sorted(changes), ["Bucket"])
        (detail,) = changes["Bucket"]["Details"]
        self.assertEqual(detail["Evaluation"], "Static")
        self.assertEqual(detail["ChangeSource"], "DirectModification")
        self.assertEqual(detail["Target"]["AfterValue"], "Suspended")
        self.assertEqual(changes["Bucket"]["Replacement"], "False")

    def test_resources_that_refer_to_a_replaced_bucket_change_dynamically(self) -> None:
        create_stack(self.template("cfn-bucket"))
        changes = self.changes(self.template("cfn-bucket-2"))
        self.assertEqual(sorted(changes), ["Bucket", "BucketPolicy", "NameParameter"])
        self.assertEqual(changes["Bucket"]["Replacement"], "True")
        policy = changes["BucketPolicy"]
        self.assertEqual(policy["Action"], "Modify")
        self.assertEqual(policy["Replacement"], "Conditional")
        causes = {
            (d["Target"]["Name"], d["ChangeSource"], d["Evaluation"], d.get("CausingEntity"))
            for d in policy["Details"]
        }
        self.assertEqual(
            causes,
            {
                ("Bucket", "ResourceReference", "Dynamic", "Bucket"),
                ("PolicyDocument", "ResourceReference", "Dynamic", "Bucket"),
            },
        )
        parameter = changes["NameParameter"]
        self.assertEqual(parameter["Replacement"], "False")
        self.assertEqual(
            [(d["Target"]["Name"], d["Evaluation"]) for d in parameter["Details"]],
            [("Value", "Dynamic")],
        )


class DriftAwareChangeSets(LauncherTest):
    """moto ignored DeploymentMode: the change set of an unchanged template failed as empty, so
    settings changed out of band could not be put back. The check after executing reads the
    bucket through S3, not anything the change set wrote."""

    TEMPLATE = {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": "cfn-bucket",
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "Tags": [
                        {"Key": "Owner", "Value": "data-science"},
                        {"Key": "s3-provisioner:deployment", "Value": "d"},
                    ],
                },
            }
        }
    }

    def drift(self) -> None:
        create_stack(self.TEMPLATE)
        self.s3.put_bucket_versioning(
            Bucket="cfn-bucket", VersioningConfiguration={"Status": "Suspended"}
        )
        client("resourcegroupstaggingapi").tag_resources(
            ResourceARNList=["arn:aws:s3:::cfn-bucket"], Tags={"Owner": "someone-else"}
        )

    def create(self, **extra: Any) -> dict[str, Any]:
        cfn = client("cloudformation")
        cfn.create_change_set(
            StackName="stack",
            ChangeSetName="revert",
            TemplateBody=json.dumps(self.TEMPLATE),
            ChangeSetType="UPDATE",
            **extra,
        )
        return cfn.describe_change_set(
            StackName="stack", ChangeSetName="revert", IncludePropertyValues=True
        )

    def test_without_the_mode_an_unchanged_template_is_still_empty(self) -> None:
        self.drift()
        answer = self.create()
        self.assertEqual(answer["Status"], "FAILED")
        self.assertNotIn("DeploymentMode", answer)

    def test_drifted_properties_are_changes_with_live_and_template_values(self) -> None:
        self.drift()
        answer = self.create(DeploymentMode="REVERT_DRIFT")
        self.assertEqual(answer["Status"], "CREATE_COMPLETE")
        self.assertEqual(answer["DeploymentMode"], "REVERT_DRIFT")
        self.assertEqual(answer["StackDriftStatus"], "DRIFTED")
        (change,) = answer["Changes"]
        resource = change["ResourceChange"]
        self.assertEqual(resource["Action"], "Modify")
        self.assertEqual(resource["ResourceDriftStatus"], "MODIFIED")
        targets = {d["Target"]["Path"]: d["Target"] for d in resource["Details"]}
        self.assertEqual(
            sorted(targets), ["/Properties/Tags/0/Value", "/Properties/VersioningConfiguration/Status"]
        )
        versioning = targets["/Properties/VersioningConfiguration/Status"]
        self.assertEqual(versioning["BeforeValue"], "Suspended")
        self.assertEqual(versioning["BeforeValueFrom"], "ACTUAL_STATE")
        self.assertEqual(versioning["AfterValue"], "Enabled")
        self.assertEqual(versioning["AfterValueFrom"], "TEMPLATE")
        self.assertEqual(
            versioning["Drift"], {"ActualValue": "Suspended", "PreviousValue": "Enabled"}
        )
        self.assertEqual(targets["/Properties/Tags/0/Value"]["Drift"]["ActualValue"], "someone-else")

    def test_executing_puts_the_live_bucket_back(self) -> None:
        self.drift()
        self.create(DeploymentMode="REVERT_DRIFT")
        client("cloudformation").execute_change_set(StackName="stack", ChangeSetName="revert")
        self.assertEqual(self.s3.get_bucket_versioning(Bucket="cfn-bucket")["Status"], "Enabled")
        self.assertEqual(self.tags("cfn-bucket")["Owner"], "data-science")

    def test_an_in_sync_stack_is_an_empty_drift_aware_change_set(self) -> None:
        create_stack(self.TEMPLATE)
        answer = self.create(DeploymentMode="REVERT_DRIFT")
        self.assertEqual(answer["Status"], "FAILED")
        self.assertIn("didn't contain changes", answer["StatusReason"])
        self.assertEqual(answer["DeploymentMode"], "REVERT_DRIFT")
        self.assertEqual(answer["StackDriftStatus"], "IN_SYNC")

    def test_an_unknown_mode_is_a_validation_error(self) -> None:
        create_stack(self.TEMPLATE)
        self.assert_error(self.create, "ValidationError", DeploymentMode="REVERT_EVERYTHING")


class S3XmlRoots(LauncherTest):
    """moto answered some S3 reads with an <OperationResponse> root the Rust SDK rejects."""

    def root(self, path: str) -> str:
        import xml.etree.ElementTree as ElementTree

        with urllib.request.urlopen(f"{ENDPOINT}/{path}") as answer:  # noqa: S310 - loopback
            return ElementTree.fromstring(answer.read()).tag.split("}")[-1]

    def test_versioning_accelerate_and_list_parts_use_s3_roots(self) -> None:
        self.s3.create_bucket(Bucket="roots")
        upload = self.s3.create_multipart_upload(Bucket="roots", Key="big")["UploadId"]
        self.assertEqual(self.root("roots?versioning"), "VersioningConfiguration")
        self.assertEqual(self.root("roots?accelerate"), "AccelerateConfiguration")
        self.assertEqual(self.root(f"roots/big?uploadId={upload}"), "ListPartsResult")


class ChangeSetsBehaveAsOnAws(LauncherTest):
    """moto looked change sets up by name in any stack, kept them after an execute, and
    computed Outputs before any resource existed."""

    def test_a_change_set_name_is_looked_up_within_its_stack(self) -> None:
        cfn = client("cloudformation")
        for stack in ("one", "two"):
            cfn.create_change_set(
                StackName=stack,
                ChangeSetName="same",
                TemplateBody=json.dumps(policy_template("Enabled", "cfn-bucket"))
                .replace("cfn-bucket", f"bucket-{stack}"),
                ChangeSetType="CREATE",
            )
        answer = cfn.describe_change_set(StackName="two", ChangeSetName="same")
        self.assertEqual(answer["StackName"], "two")

    def test_execute_sets_outputs_and_removes_the_stacks_change_sets(self) -> None:
        cfn = client("cloudformation")
        template = dict(BUCKET_TEMPLATE, Outputs={"Name": {"Value": {"Ref": "Bucket"}}})
        cfn.create_change_set(
            StackName="stack",
            ChangeSetName="first",
            TemplateBody=json.dumps(template),
            ChangeSetType="CREATE",
        )
        cfn.execute_change_set(StackName="stack", ChangeSetName="first")
        stack = cfn.describe_stacks(StackName="stack")["Stacks"][0]
        self.assertEqual(stack["Outputs"][0]["OutputValue"], "cfn-bucket")
        self.assertEqual(cfn.list_change_sets(StackName="stack")["Summaries"], [])

    def test_drift_detection_answers_not_implemented_at_once(self) -> None:
        create_stack(BUCKET_TEMPLATE)
        with self.assertRaises(ClientError) as caught:
            client("cloudformation").detect_stack_drift(StackName="stack")
        self.assertEqual(caught.exception.response["Error"]["Code"], "NotImplemented")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 501)


def bucket_properties_template(versioning: str) -> dict[str, Any]:
    """A bucket with the properties a deployment sets besides encryption and tags."""
    return {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Delete",
                "Properties": {
                    "BucketName": "cfn-bucket",
                    "VersioningConfiguration": {"Status": versioning},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                },
            }
        }
    }


class BucketPropertiesFromTemplates(LauncherTest):
    """moto's AWS::S3::Bucket applied only BucketEncryption and Tags."""

    def test_versioning_public_access_block_and_ownership_are_applied(self) -> None:
        create_stack(bucket_properties_template("Enabled"))
        self.assertEqual(self.s3.get_bucket_versioning(Bucket="cfn-bucket")["Status"], "Enabled")
        block = self.s3.get_public_access_block(Bucket="cfn-bucket")
        self.assertEqual(
            block["PublicAccessBlockConfiguration"],
            {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        rules = self.s3.get_bucket_ownership_controls(Bucket="cfn-bucket")["OwnershipControls"]
        self.assertEqual(rules["Rules"], [{"ObjectOwnership": "BucketOwnerEnforced"}])

    def test_an_update_changes_the_live_versioning(self) -> None:
        create_stack(bucket_properties_template("Enabled"))
        client("cloudformation").update_stack(
            StackName="stack", TemplateBody=json.dumps(bucket_properties_template("Suspended"))
        )
        self.assertEqual(
            self.s3.get_bucket_versioning(Bucket="cfn-bucket")["Status"], "Suspended"
        )


class StacksAsOnAwsWhenDeleted(LauncherTest):
    """moto reported DELETE_COMPLETE for a stack whose non-empty bucket stayed, popped a
    DELETE_FAILED stack (HTTP 500, the stack vanished), and re-created a deleted stack's
    resources when it was read."""

    def status(self, stack: str = "stack") -> str:
        return client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0][
            "StackStatus"
        ]

    def test_a_non_empty_delete_bucket_fails_the_stack_delete_and_the_stack_stays(self) -> None:
        create_stack(bucket_properties_template("Enabled"))
        self.s3.put_object(Bucket="cfn-bucket", Key="a", Body=b"x")
        cfn = client("cloudformation")
        cfn.delete_stack(StackName="stack")
        self.assertEqual(self.status(), "DELETE_FAILED")
        newest = cfn.describe_stack_events(StackName="stack")["StackEvents"][0]
        self.assertEqual(newest["ResourceStatus"], "DELETE_FAILED")
        self.assertIn("not empty", newest["ResourceStatusReason"])
        self.s3.head_bucket(Bucket="cfn-bucket")

    def test_a_deleted_stack_read_by_id_lists_no_resources_and_brings_none_back(self) -> None:
        cfn = client("cloudformation")
        create_stack(bucket_properties_template("Enabled"))
        stack_id = cfn.describe_stacks(StackName="stack")["Stacks"][0]["StackId"]
        cfn.delete_stack(StackName="stack")
        self.assertEqual(self.status(stack_id), "DELETE_COMPLETE")
        self.assertEqual(
            cfn.list_stack_resources(StackName=stack_id)["StackResourceSummaries"], []
        )
        self.assert_error(self.s3.head_bucket, "404", Bucket="cfn-bucket")


class UniqueStackNames(LauncherTest):
    """moto made a second live stack of a name for a CREATE change set."""

    def test_a_create_change_set_for_a_live_stacks_name_already_exists(self) -> None:
        create_stack(BUCKET_TEMPLATE)
        other = json.dumps(BUCKET_TEMPLATE).replace("cfn-bucket", "another-bucket")
        self.assert_error(
            client("cloudformation").create_change_set,
            "AlreadyExistsException",
            StackName="stack",
            ChangeSetName="second",
            TemplateBody=other,
            ChangeSetType="CREATE",
        )


class RecordingsAreWholeLines(LauncherTest):
    """moto's request recorder under concurrent requests (the threaded server's normal load)."""

    def recorder(self, verb: str) -> bytes:
        method = "GET" if verb == "download" else "POST"
        request = urllib.request.Request(
            f"{ENDPOINT}/moto-api/recorder/{verb}-recording",
            method=method,
            data=b"" if method == "POST" else None,
        )
        return urllib.request.urlopen(request).read()  # noqa: S310 - loopback moto server

    def test_concurrent_requests_are_recorded_one_whole_line_each(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.s3.create_bucket(Bucket="recorded")
        self.recorder("reset")
        self.recorder("start")
        try:
            # Large bodies make each entry long, so two unsynchronised appends overlap often.
            body = b"x" * 20_000

            def put(number: int) -> None:
                client("s3").put_object(Bucket="recorded", Key=f"k{number}", Body=body)

            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(put, range(160)))
        finally:
            self.recorder("stop")
        lines = [line for line in self.recorder("download").decode().splitlines() if line]
        puts = [json.loads(line) for line in lines]  # raises on two entries run together
        self.assertEqual(sum(entry["method"] == "PUT" for entry in puts), 160)


if __name__ == "__main__":
    unittest.main(verbosity=2)
