"""Tests of the moto launcher itself: one test class per patch in the launcher's patch table
(moto_launcher.py module doc), each checking the AWS behaviour the patch follows through boto3.

Run by tests/moto_launcher.rs with the project's venv python:

    python tests/support/moto_launcher_test.py

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
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    ENDPOINT = f"http://{host}:{port}"


def client(service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
