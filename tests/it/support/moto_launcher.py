"""Start a faithful local AWS (moto server) for the integration tests.

Run by tests/it/support/moto.rs with the project's venv python:

    python tests/it/support/moto_launcher.py

It binds 127.0.0.1 on a free port, prints exactly one line ``PORT=<n>`` on stdout once the socket
accepts connections, and exits by itself when its stdin reaches EOF, so a crashed or killed test
process never leaves a server behind. Diagnostics go to stderr.

Before serving it patches moto 5.2.5 in memory (site-packages is never modified) where it is less
faithful than AWS for what S3 Provisioner does. Each patch says why next to its code; all of them
are listed in one table, with the moto behaviour each corrects, the AWS behaviour it follows and
its test, in docs/moto-launcher.md. Keep that table in step with this file. In short:

* S3: CloudFormation-created buckets get every template property and the aws:cloudformation:*
  tags; system tags cannot be dropped by PutBucketTagging; a deleted bucket's tags go with it;
  every bucket has SSE-S3 default encryption; AWS::S3::BucketPolicy is a real resource;
  PutBucketPolicy is validated (MalformedPolicy, BlockPublicPolicy) and policy conditions follow
  IAM's rules, refusing loudly what is not modelled; a non-empty Delete bucket fails the stack
  delete; S3 XML roots the Rust SDK accepts.
* CloudFormation (see patch_cloudformation): DELETE_FAILED stacks, rollbacks with per-resource
  failure events (an update rollback restores the previous template), ExecuteChangeSet Outputs and
  tags, change sets looked up within their stack, Metadata/Outputs-only change sets fail as empty,
  DescribeChangeSet Details (Static / Dynamic, ResourceReference), drift-aware change sets
  (DeploymentMode REVERT_DRIFT) for the bucket's settings, readable ValidateTemplate errors, and
  an immediate non-retryable 501 NotImplemented for drift detection.
* The request recorder (a test tool, not an AWS behaviour) writes one whole line per request even
  when requests arrive at once.

moto.cloudformation is deliberately NOT imported here: it imports every moto service and costs
~1.5 s of CPU that tests without CloudFormation should not pay. The BucketPolicy model only has to
subclass CloudFormationModel before moto's lru_cached model list is first built (at the first stack
operation), and the CloudFormation patches are installed by an import hook on first use.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from typing import Any


def _as_int(value: Any) -> Any:
    """CloudFormation templates may carry numbers as strings ("30"); S3 returns integers."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cfn_lifecycle_rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    """Translate one CloudFormation ``LifecycleConfiguration.Rules`` item into the dict shape that
    moto's ``FakeBucket.set_lifecycle`` takes (the parsed PutBucketLifecycleConfiguration XML).

    CloudFormation's ``Prefix`` becomes ``Filter.Prefix`` (with TagFilters: ``Filter.And``), which
    is how S3 stores rules that CloudFormation writes."""
    api: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
    if rule.get("Id") is not None:
        api["ID"] = rule["Id"]

    prefix = rule.get("Prefix")
    tag_filters = [
        {"Key": t.get("Key"), "Value": t.get("Value", "")}
        for t in _as_list(rule.get("TagFilters"))
        if isinstance(t, dict)
    ]
    if isinstance(rule.get("Filter"), dict):
        # Not a CloudFormation property, but accept the S3 API shape too.
        api["Filter"] = rule["Filter"]
    elif tag_filters and (prefix is not None or len(tag_filters) > 1):
        and_filter: dict[str, Any] = {"Tag": tag_filters}
        if prefix is not None:
            and_filter["Prefix"] = prefix
        api["Filter"] = {"And": and_filter}
    elif tag_filters:
        api["Filter"] = {"Tag": tag_filters[0]}
    elif prefix is not None:
        api["Filter"] = {"Prefix": prefix}
    else:
        api["Filter"] = {}

    expiration: dict[str, Any] = {}
    if rule.get("ExpirationInDays") is not None:
        expiration["Days"] = _as_int(rule["ExpirationInDays"])
    if rule.get("ExpirationDate") is not None:
        expiration["Date"] = rule["ExpirationDate"]
    if rule.get("ExpiredObjectDeleteMarker") is not None:
        expiration["ExpiredObjectDeleteMarker"] = rule["ExpiredObjectDeleteMarker"]
    if expiration:
        api["Expiration"] = expiration

    transitions = []
    for t in _as_list(rule.get("Transitions")) + _as_list(rule.get("Transition")):
        if not isinstance(t, dict):
            continue
        item: dict[str, Any] = {"StorageClass": t.get("StorageClass")}
        if t.get("TransitionInDays") is not None:
            item["Days"] = _as_int(t["TransitionInDays"])
        if t.get("TransitionDate") is not None:
            item["Date"] = t["TransitionDate"]
        transitions.append(item)
    if transitions:
        api["Transition"] = transitions

    nv_transitions = []
    for t in _as_list(rule.get("NoncurrentVersionTransitions")) + _as_list(
        rule.get("NoncurrentVersionTransition")
    ):
        if not isinstance(t, dict):
            continue
        item = {
            "NoncurrentDays": _as_int(t.get("TransitionInDays")),
            "StorageClass": t.get("StorageClass"),
        }
        if t.get("NewerNoncurrentVersions") is not None:
            item["NewerNoncurrentVersions"] = _as_int(t["NewerNoncurrentVersions"])
        nv_transitions.append(item)
    if nv_transitions:
        api["NoncurrentVersionTransition"] = nv_transitions

    nve = rule.get("NoncurrentVersionExpiration")
    if isinstance(nve, dict) and nve.get("NoncurrentDays") is not None:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": _as_int(nve["NoncurrentDays"])
        }
    elif rule.get("NoncurrentVersionExpirationInDays") is not None:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": _as_int(rule["NoncurrentVersionExpirationInDays"])
        }

    aimu = rule.get("AbortIncompleteMultipartUpload")
    if isinstance(aimu, dict) and aimu.get("DaysAfterInitiation") is not None:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": _as_int(aimu["DaysAfterInitiation"])
        }
    return api


class _SystemTagWriter(threading.local):
    """``with SYSTEM_TAG_WRITER:`` marks CloudFormation's own bucket tagging (on this thread),
    which may replace the ``aws:cloudformation:*`` tags a requester's PutBucketTagging may not."""

    depth = 0

    @property
    def active(self) -> bool:
        return self.depth > 0

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1


SYSTEM_TAG_WRITER = _SystemTagWriter()


# Request context for bucket-policy conditions (see get_permission in patch_moto): clients reach
# real S3 over TLS, so aws:SecureTransport is true. Every other key is absent from the context.
REQUEST_CONTEXT = {"aws:securetransport": "true"}


class UnmodelledPolicy(Exception):
    """A bucket policy the launcher cannot evaluate as IAM would. Raised, never guessed: S3 would
    evaluate it, so pretending (e.g. skipping the statement) could pass a test AWS would fail."""


def _glob_match(pattern: str, value: str) -> bool:
    """IAM's *Like matching: ``*`` any run of characters, ``?`` one character."""
    import re

    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


# The condition operators the launcher evaluates: name -> (value test, negated). A negated
# operator holds when the context value matches none of the listed values, and (IAM's rule) when
# the key is absent from the request context; a positive one needs the key and one matching value.
CONDITION_OPERATORS = {
    "StringEquals": (lambda want, got: want == got, False),
    "StringNotEquals": (lambda want, got: want == got, True),
    "StringEqualsIgnoreCase": (lambda want, got: want.lower() == got.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda want, got: want.lower() == got.lower(), True),
    "StringLike": (_glob_match, False),
    "StringNotLike": (_glob_match, True),
    "Bool": (lambda want, got: want.lower() == got.lower(), False),
}

# Every operator IAM defines (base names; each also with IfExists, except Null), so a policy can
# be told malformed (an operator IAM does not know) from unmodelled (one the launcher does not
# evaluate).
IAM_OPERATORS = {
    *CONDITION_OPERATORS,
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals",
    "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
    "Null",
}


def _split_operator(operator: str) -> tuple[str | None, str, bool]:
    """(set qualifier ForAnyValue/ForAllValues or None, base operator, IfExists)."""
    qualifier = None
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if operator.startswith(prefix):
            qualifier, operator = prefix[:-1], operator[len(prefix) :]
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    base = operator[: -len("IfExists")] if if_exists else operator
    return qualifier, base, if_exists


def check_condition_block(condition_block: Any) -> None:
    """Raise ValueError when IAM would reject the block (malformed), UnmodelledPolicy when it is
    valid IAM the launcher does not evaluate."""
    if not isinstance(condition_block, dict):
        raise ValueError("Condition must be an object of operator -> {key: values}")
    for operator, pairs in condition_block.items():
        qualifier, base, if_exists = _split_operator(str(operator))
        if base not in IAM_OPERATORS or (base == "Null" and if_exists):
            raise ValueError(f"Invalid Condition type : {operator}")
        if not isinstance(pairs, dict) or not pairs:
            raise ValueError(f"Condition {operator} must map condition keys to values")
        if qualifier is not None or base not in CONDITION_OPERATORS:
            raise UnmodelledPolicy(
                f"the moto launcher does not evaluate the bucket-policy condition operator "
                f"{operator!r} (it evaluates {', '.join(sorted(CONDITION_OPERATORS))}, with "
                f"IfExists); model it in tests/it/support/moto_launcher.py before relying on it"
            )
        for key, values in pairs.items():
            for value in _as_list(values):
                if isinstance(value, (dict, list)) or value is None:
                    raise ValueError(f"Condition {operator} {key}: values must be strings")


def conditions_hold(condition_block: Any) -> bool:
    """Whether a statement's Condition holds for REQUEST_CONTEXT, by IAM's rules: every operator
    and every key within it must hold; the values listed for a key are alternatives (any one
    matches), and a negated operator holds when none matches. A key absent from the context
    makes a positive operator false and a negated one true; *IfExists holds when the key is
    absent. Anything the launcher does not model raises UnmodelledPolicy."""
    check_condition_block(condition_block)
    for operator, pairs in condition_block.items():
        _, base, if_exists = _split_operator(str(operator))
        matches, negated = CONDITION_OPERATORS[base]
        for key, expected in pairs.items():
            actual = REQUEST_CONTEXT.get(str(key).lower())
            if actual is None:
                if if_exists or negated:
                    continue
                return False
            any_match = any(matches(str(want), actual) for want in _as_list(expected))
            if any_match == negated:
                return False
    return True


# Condition keys that, with fixed values, keep an Allow to "*" from being public (S3's rule for
# BlockPublicPolicy / RestrictPublicBuckets: a policy is public unless every Allow with a
# wildcard principal is limited to fixed principals, networks or sources).
NON_PUBLIC_CONDITION_KEYS = {
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner",
    "aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:sourceip",
    "aws:userid", "aws:principalorgpaths", "aws:principalservicename", "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
}


def _wildcard_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any("*" in _as_list(v) for v in principal.values())
    return False


def policy_is_public(document: dict[str, Any]) -> bool:
    """S3's definition of a public bucket policy: an Allow statement whose principal is a wildcard
    and whose conditions do not pin it to a fixed principal, network or source."""
    for statement in _as_list(document.get("Statement")):
        if statement.get("Effect") != "Allow" or not _wildcard_principal(
            statement.get("Principal")
        ):
            continue
        pinned = False
        for operator, pairs in (statement.get("Condition") or {}).items():
            _, base, _ = _split_operator(str(operator))
            if base in ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike",
                        "NotIpAddress", "Null"):
                continue
            for key, values in pairs.items():
                if str(key).lower() in NON_PUBLIC_CONDITION_KEYS and not any(
                    "*" in str(v) for v in _as_list(values)
                ):
                    pinned = True
        if not pinned:
            return True
    return False


def validate_bucket_policy(bucket_name: str, body: bytes | str) -> dict[str, Any]:
    """The checks PutBucketPolicy makes (MalformedPolicy), returning the parsed document. Raises
    ValueError with S3's reason, or UnmodelledPolicy."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text.lstrip().startswith("{"):
        raise ValueError("Policies must be valid JSON and the first byte must be '{'")
    try:
        document = json.loads(text)
    except ValueError:
        raise ValueError("This policy contains invalid Json") from None
    if document.get("Version", "2008-10-17") not in ("2008-10-17", "2012-10-17"):
        raise ValueError("Policy has invalid Version")
    statements = _as_list(document.get("Statement"))
    if not statements:
        raise ValueError("Missing required field Statement")
    for statement in statements:
        if not isinstance(statement, dict):
            raise ValueError("Statement must be an object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError("Invalid effect: " + str(statement.get("Effect")))
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise ValueError("Missing required field Principal")
        if "Action" not in statement and "NotAction" not in statement:
            raise ValueError("Missing required field Action")
        resources = _as_list(statement.get("Resource", statement.get("NotResource")))
        if not resources:
            raise ValueError("Missing required field Resource")
        for resource in resources:
            arn = f"arn:aws:s3:::{bucket_name}"
            if not isinstance(resource, str) or not (
                resource == arn or resource.startswith(arn + "/")
            ):
                raise ValueError("Policy has invalid resource")
        if "Condition" in statement:
            check_condition_block(statement["Condition"])
    return document


def patch_moto() -> None:
    from moto.core.common_models import CloudFormationModel
    from moto.core.utils import ensure_boolean
    from moto.s3 import models as s3_models
    from moto.s3.exceptions import BucketNotEmpty, InvalidTagError, MissingBucket, S3ClientError

    class StatusError(S3ClientError):
        """An S3 error with its HTTP status (moto answers 400 for a code its S3 model lacks)."""

        __module__ = "moto.s3.exceptions"  # moto finds the service model by module name

        def __init__(self, code: str, message: str, status: int) -> None:
            super().__init__(code, message)
            self.s3p_status = status

    def LauncherNotImplemented(message: str) -> StatusError:  # noqa: N802 - reads as a class
        """HTTP 501 NotImplemented: the request is valid on AWS but the launcher cannot emulate
        it faithfully (SDKs do not retry it, and the message says what to model)."""
        return StatusError("NotImplemented", message, 501)

    from moto.core import errors as core_errors
    from moto.core import serialize as core_serialize

    original_get_error_model = core_errors.get_error_model

    def get_error_model(exception: Exception, default_service_model: Any) -> Any:
        status = getattr(exception, "s3p_status", None)
        if status is None:
            return original_get_error_model(exception, default_service_model)
        code = getattr(exception, "code", type(exception).__name__)
        return core_errors.ErrorShape(
            shape_name=code,
            shape_model={
                "exception": True,
                "type": "structure",
                "members": {},
                "error": {"code": code, "httpStatusCode": status},
            },
        )

    core_serialize.get_error_model = get_error_model
    from moto.utilities.utils import get_partition

    FakeBucket = s3_models.FakeBucket

    def backend_for(account_id: str, region_name: str) -> Any:
        return s3_models.s3_backends[account_id][get_partition(region_name)]

    def apply_bucket_properties(
        backend: Any, name: str, properties: dict[str, Any], updating: bool
    ) -> None:
        """Apply the properties moto's model ignores. ``updating``: an absent property removes the
        setting, as a CloudFormation update does (versioning excepted, see module doc)."""
        encryption = properties.get("BucketEncryption")
        sse_rules = (
            encryption.get("ServerSideEncryptionConfiguration")
            if isinstance(encryption, dict)
            else None
        )
        if sse_rules and isinstance(_as_list(sse_rules)[0], dict):
            key_enabled = _as_list(sse_rules)[0].get("BucketKeyEnabled")
            current = backend.get_bucket_encryption(name)
            if key_enabled is not None and current and isinstance(current.get("Rule"), dict):
                # moto's cfn_to_api_encryption drops BucketKeyEnabled; GetBucketEncryption reads it
                # from the stored rule.
                current["Rule"]["BucketKeyEnabled"] = ensure_boolean(key_enabled)

        versioning = properties.get("VersioningConfiguration")
        if isinstance(versioning, dict) and versioning.get("Status"):
            backend.put_bucket_versioning(name, versioning["Status"])

        pab = properties.get("PublicAccessBlockConfiguration")
        if isinstance(pab, dict) and pab:
            backend.put_public_access_block(name, pab)
        elif updating:
            backend.delete_public_access_block(name)

        ownership = properties.get("OwnershipControls")
        rules = ownership.get("Rules") if isinstance(ownership, dict) else None
        object_ownership = next(
            (
                r.get("ObjectOwnership")
                for r in _as_list(rules)
                if isinstance(r, dict) and r.get("ObjectOwnership")
            ),
            None,
        )
        if object_ownership:
            backend.put_bucket_ownership_controls(name, ownership=object_ownership)
        elif updating:
            backend.delete_bucket_ownership_controls(name)

        lifecycle = properties.get("LifecycleConfiguration")
        lc_rules = lifecycle.get("Rules") if isinstance(lifecycle, dict) else None
        if lc_rules:
            backend.put_bucket_lifecycle(
                name,
                [cfn_lifecycle_rule_to_api(r) for r in _as_list(lc_rules) if isinstance(r, dict)],
            )
        elif updating:
            backend.delete_bucket_lifecycle(name)

        # Tags: the template's plus the aws:cloudformation:* tags CloudFormation adds to every
        # bucket it creates (moto adds none, and its update replaced them with the template's).
        template_tags = {
            str(tag["Key"]): str(tag.get("Value") or "")
            for tag in _as_list(properties.get("Tags"))
            if isinstance(tag, dict) and tag.get("Key") is not None
        }
        cfn_tags = getattr(backend.get_bucket(name), "s3p_cloudformation_tags", {})
        backend.put_bucket_tagging(name, {**template_tags, **cfn_tags})

    original_create = FakeBucket.create_from_cloudformation_json.__func__
    original_update = FakeBucket.update_from_cloudformation_json.__func__

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        with SYSTEM_TAG_WRITER:
            bucket = original_create(
                cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
            )
        stack_id = str(kwargs.get("StackId") or "")
        if stack_id.count("/") >= 2:
            bucket.s3p_cloudformation_tags = {
                "aws:cloudformation:stack-name": stack_id.split("/")[1],
                "aws:cloudformation:stack-id": stack_id,
                "aws:cloudformation:logical-id": str(kwargs.get("LogicalId") or ""),
            }
        properties = cloudformation_json.get("Properties") or {}
        with SYSTEM_TAG_WRITER:
            apply_bucket_properties(
                backend_for(account_id, region_name), bucket.name, properties, updating=False
            )
        return bucket

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.setdefault("Properties", {})
        # moto's update reads properties["BucketName"] for Tags even when the template has no
        # BucketName (KeyError). A bucket without BucketName keeps its generated name on AWS.
        properties.setdefault("BucketName", original_resource.name)
        with SYSTEM_TAG_WRITER:
            bucket = original_update(
                cls,
                original_resource,
                new_resource_name,
                cloudformation_json,
                account_id,
                region_name,
            )
        if bucket is not original_resource and not hasattr(bucket, "s3p_cloudformation_tags"):
            # Replaced (new BucketName): the new bucket belongs to the same stack resource.
            bucket.s3p_cloudformation_tags = getattr(
                original_resource, "s3p_cloudformation_tags", {}
            )
        with SYSTEM_TAG_WRITER:
            apply_bucket_properties(
                backend_for(account_id, region_name), bucket.name, properties, updating=True
            )
        return bucket

    def delete_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> None:
        backend = backend_for(account_id, region_name)
        try:
            bucket = backend.get_bucket(resource_name)
        except MissingBucket:
            return  # already gone: CloudFormation treats that as deleted
        if bucket.keys:
            # moto's delete_bucket returns None and keeps a non-empty bucket, and the stack then
            # reports DELETE_COMPLETE. AWS refuses instead; raise so the stack delete fails.
            raise BucketNotEmpty(resource_name)
        backend.delete_bucket(resource_name)

    def get_permission(self: Any, action: str, resource: str) -> Any:
        """Bucket-policy check used by moto's object operations.

        moto evaluates conditions with a StringEquals-only engine that ignores Bool and, for a
        Deny statement, treats a condition that does not hold as DENIED. So the standard
        "deny s3:* when aws:SecureTransport is false" statement that S3 Provisioner attaches
        denies every PutObject. Here a statement applies only when all its conditions hold for
        REQUEST_CONTEXT by IAM's rules (conditions_hold, which raises on anything it does not
        model: the request then fails with HTTP 500 naming it, never silently allowed).
        Statements whose conditions hold are then judged by moto itself."""
        from moto.iam.access_control import IAMPolicyStatement, PermissionResult

        if self.policy is None:
            return PermissionResult.NEUTRAL
        # PutBucketPolicy validated it (put_bucket_policy below), so it parses.
        document = json.loads(self.policy.decode())
        permitted = False
        for statement in _as_list(document.get("Statement")):
            if not isinstance(statement, dict):
                continue
            if "Condition" in statement:
                if not conditions_hold(statement["Condition"]):
                    continue
                statement = {k: v for k, v in statement.items() if k != "Condition"}
            result = IAMPolicyStatement(statement).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return result
            permitted = permitted or result == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    original_delete_bucket = s3_models.S3Backend.delete_bucket

    def delete_bucket(self: Any, bucket_name: str) -> Any:
        """moto keeps a bucket's tags in the backend's tagger, keyed by the bucket ARN, and never
        drops them: a bucket re-created under the same name came back with the old tags (and so
        looked owned by a deployment). On AWS the tags go with the bucket."""
        deleted = original_delete_bucket(self, bucket_name)
        if deleted is not None:
            self.tagger.delete_all_tags_for_resource(deleted.arn)
        return deleted

    s3_models.S3Backend.delete_bucket = delete_bucket

    original_put_bucket_tagging = s3_models.S3Backend.put_bucket_tagging

    def put_bucket_tagging(self: Any, bucket_name: str, tags: dict[str, str]) -> None:
        """PutBucketTagging replaces the whole tag set. On AWS a requester can neither write an
        ``aws:`` tag (moto checks that) nor drop one: on a bucket CloudFormation created, a tag
        set without its ``aws:cloudformation:*`` tags fails with InvalidTag, which moto accepted.
        CloudFormation itself (SYSTEM_TAG_WRITER) and the Resource Groups Tagging API's
        TagResources (which merges into the existing set) keep them."""
        if not SYSTEM_TAG_WRITER.active:
            existing = self.tagger.get_tag_dict_for_resource(self.get_bucket(bucket_name).arn)
            if any(key.startswith("aws:") and key not in tags for key in existing):
                raise InvalidTagError("System tags cannot be removed by requester")
        original_put_bucket_tagging(self, bucket_name, tags)

    s3_models.S3Backend.put_bucket_tagging = put_bucket_tagging
    original_put_bucket_policy = s3_models.S3Backend.put_bucket_policy

    def put_bucket_policy(self: Any, bucket_name: str, policy: bytes) -> None:
        """moto stored any bytes. S3 validates the document (MalformedPolicy) and, when the
        bucket's BlockPublicPolicy is on, refuses a public policy (AccessDenied). A valid policy
        the launcher cannot evaluate is refused loudly (501) rather than half-enforced."""
        bucket = self.get_bucket(bucket_name)
        try:
            document = validate_bucket_policy(bucket_name, policy)
        except ValueError as error:
            raise StatusError("MalformedPolicy", str(error), 400) from None
        except UnmodelledPolicy as error:
            raise LauncherNotImplemented(str(error)) from None
        block = bucket.public_access_block
        if block is not None and block.block_public_policy and policy_is_public(document):
            raise StatusError("AccessDenied", "Access Denied", 403)
        original_put_bucket_policy(self, bucket_name, policy)

    s3_models.S3Backend.put_bucket_policy = put_bucket_policy

    # Since January 2023 every S3 bucket has default encryption: SSE-S3 unless configured
    # otherwise, and DeleteBucketEncryption resets it to SSE-S3. moto had buckets without any
    # (GetBucketEncryption answered ServerSideEncryptionConfigurationNotFoundError), a state AWS
    # cannot reach.
    def sse_s3_default() -> dict[str, Any]:
        return {
            "Rule": {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                "BucketKeyEnabled": False,
            }
        }

    original_bucket_init = FakeBucket.__init__

    def bucket_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_bucket_init(self, *args, **kwargs)
        if getattr(self, "encryption", None) is None:
            self.encryption = sse_s3_default()

    def delete_bucket_encryption(self: Any, bucket_name: str) -> None:
        self.get_bucket(bucket_name).encryption = sse_s3_default()

    FakeBucket.__init__ = bucket_init
    s3_models.S3Backend.delete_bucket_encryption = delete_bucket_encryption
    FakeBucket.get_permission = get_permission
    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    FakeBucket.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
    FakeBucket.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)

    class FakeBucketPolicy(CloudFormationModel):
        """``AWS::S3::BucketPolicy``: the policy lives on the bucket in moto's S3 backend."""

        # moto's model metaclass files every model under its service, taken from the module name.
        __module__ = "moto.s3.models"

        def __init__(self, physical_id: str, bucket_name: str, account_id: str, region_name: str):
            self.physical_id = physical_id
            self.bucket_name = bucket_name
            self.account_id = account_id
            self.region_name = region_name

        @property
        def physical_resource_id(self) -> str:
            return self.physical_id

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""  # no name property: CloudFormation generates the physical id

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::S3::BucketPolicy"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False  # AWS::S3::BucketPolicy has no Fn::GetAtt attributes

        def is_created(self) -> bool:
            return True

        @staticmethod
        def _put(properties: dict[str, Any], account_id: str, region_name: str) -> str:
            bucket_name = properties.get("Bucket")
            document = properties.get("PolicyDocument")
            if not bucket_name or document is None:
                raise ValueError("AWS::S3::BucketPolicy needs Bucket and PolicyDocument")
            # PutBucketPolicy stores the request body (bytes); a template gives a mapping
            # (or, rarely, a JSON string).
            body = document if isinstance(document, str) else json.dumps(document)
            backend_for(account_id, region_name).put_bucket_policy(
                bucket_name, body.encode("utf-8")
            )
            return str(bucket_name)

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[misc]
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> "FakeBucketPolicy":
            properties = cloudformation_json.get("Properties") or {}
            bucket_name = cls._put(properties, account_id, region_name)
            return cls(resource_name, bucket_name, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[misc]
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> "FakeBucketPolicy":
            properties = cloudformation_json.get("Properties") or {}
            if properties.get("Bucket") != original_resource.bucket_name:
                # Bucket is a replacement property: the old bucket loses the policy.
                original_resource.delete(account_id, region_name)
            bucket_name = cls._put(properties, account_id, region_name)
            return cls(original_resource.physical_id, bucket_name, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[misc]
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> None:
            bucket_name = (cloudformation_json.get("Properties") or {}).get("Bucket")
            if bucket_name:
                cls(resource_name, bucket_name, account_id, region_name).delete(
                    account_id, region_name
                )

        def delete(self, account_id: str, region_name: str) -> None:
            try:
                backend_for(account_id, region_name).delete_bucket_policy(self.bucket_name)
            except MissingBucket:
                pass  # the bucket went first; its policy went with it

    # Keep a reference so the class (and so the subclass registration) is never collected.
    patch_moto.bucket_policy_model = FakeBucketPolicy  # type: ignore[attr-defined]
    # For the REVERT_DRIFT emulation (install_revert_drift), which re-applies bucket properties.
    patch_moto.apply_bucket_properties = apply_bucket_properties  # type: ignore[attr-defined]
    patch_moto.backend_for = backend_for  # type: ignore[attr-defined]

    if "moto.cloudformation.parsing" in sys.modules:
        # Only if something imported parsing already: its model lists are lru_cached.
        parsing = sys.modules["moto.cloudformation.parsing"]
        for cached in ("get_model_list", "get_model_map", "get_name_type_map"):
            getattr(parsing, cached).cache_clear()


# S3 responses whose XML root moto names "<Operation>Response" instead of S3's element. boto3
# ignores the root; the Rust SDK rejects the response ("invalid XML root"). moto takes the root
# from the output shape's resultWrapper, which its own model extras set for most operations.
S3_XML_ROOTS = {
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "ListPartsOutput": "ListPartsResult",
    "GetBucketAccelerateConfigurationOutput": "AccelerateConfiguration",
}


def patch_s3_xml_roots() -> None:
    from moto.core.utils import get_service_model

    # get_service_model is functools.cache'd: patch the one instance every response uses, before
    # any operation model (and its output shape) is built from the shape definitions.
    shape_map = get_service_model("s3")._shape_resolver._shape_map
    for shape_name, root in S3_XML_ROOTS.items():
        if shape_name in shape_map:
            shape_map[shape_name]["resultWrapper"] = root


def patch_cloudformation() -> None:
    """CloudFormation fixes, installed when moto.cloudformation.responses is first imported (by
    the first CloudFormation request; see module doc):

    * a stack whose resource fails to delete ends DELETE_FAILED and stays listed, as on AWS
      (moto pops the stack first, so the error answered HTTP 500 and the stack vanished);
    * a resource that fails to create or update fails the stack (ROLLBACK_COMPLETE /
      UPDATE_ROLLBACK_COMPLETE) instead of failing the CreateStack / ExecuteChangeSet call;
    * ExecuteChangeSet refreshes the stack's Outputs and Description (moto computed them when the
      REVIEW_IN_PROGRESS stack was created, from no resources: DescribeStacks showed no Outputs)
      and applies an UPDATE change set's Tags to the stack; then it removes the stack's change
      sets, as AWS does once one of them is executed;
    * DescribeChangeSet / ExecuteChangeSet / DeleteChangeSet find the change set by name within
      the given StackName (moto takes the first change set of that name in any stack);
    * DescribeChangeSet lists, per Modify, the changed properties with before/after values
      (Details, Scope, Replacement), as AWS does with IncludePropertyValues;
    * ValidateTemplate errors read "Template format error: ..." (moto said "Stack with id <the
      finding> does not exist");
    * drift detection (not implemented by moto) answers 501 NotImplemented at once;
    * CreateChangeSet with DeploymentMode REVERT_DRIFT makes a drift-aware change set for the
      bucket properties the launcher reads back (install_revert_drift).
    """
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import responses as cfn_responses
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult, EmptyResult

    backend_class = cfn_models.CloudFormationBackend
    response_class = cfn_responses.CloudFormationResponse
    if getattr(backend_class, "_s3p_patched", False):
        return
    backend_class._s3p_patched = True

    original_delete_stack = backend_class.delete_stack

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stacks = [
            s for s in list(self.stacks.values()) if name_or_stack_id in (s.stack_id, s.name)
        ]
        for stack in stacks:
            try:
                stack.outputs  # noqa: B018 - resolve and cache the outputs while resources exist
            except Exception:  # noqa: BLE001 - a stack whose outputs cannot resolve keeps none
                pass
            try:
                stack.resource_map.delete()
            except Exception as error:  # noqa: BLE001 - any resource failure fails the stack
                reason = getattr(error, "message", None) or str(error)
                stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
                stack._add_stack_event(
                    "DELETE_FAILED",
                    resource_status_reason=f"The following resource(s) failed to delete: {reason}",
                )
                stack.status = "DELETE_FAILED"
                freeze(stack, keep_outputs=True)
                continue
            # Resources are gone: moto's own delete_stack now finds nothing left to delete and
            # does its bookkeeping (events, exports, deleted_stacks).
            original_delete_stack(self, stack.stack_id)
            freeze(stack, keep_outputs=False)

    backend_class.delete_stack = delete_stack

    parsing = sys.modules["moto.cloudformation.parsing"]
    resource_map_class = parsing.ResourceMap

    def freeze(stack: Any, keep_outputs: bool) -> None:
        """moto's ResourceMap creates a resource whenever one is looked up and is missing, so
        reading a deleted or rolled-back stack (DescribeStacks outputs, ListStackResources)
        re-created its deleted resources or failed with HTTP 500. A frozen map only reports
        the resources that exist; outputs keep their resolved values (DELETE_FAILED) or go."""
        stack.resource_map.s3p_frozen = True
        if not keep_outputs:
            stack.output_map = parsing.OutputMap(stack.resource_map, {"Outputs": {}}, stack.stack_id)

    original_getitem = resource_map_class.__getitem__
    original_iter = resource_map_class.__iter__

    def getitem(self: Any, key: str) -> Any:
        if getattr(self, "s3p_frozen", False) and key not in self._parsed_resources:
            raise KeyError(key)
        return original_getitem(self, key)

    def iterate(self: Any) -> Any:
        if getattr(self, "s3p_frozen", False):
            return iter([key for key in self.resources if key in self._parsed_resources])
        return original_iter(self)

    resource_map_class.__getitem__ = getitem
    resource_map_class.__iter__ = iterate

    def resource_event(stack: Any, logical_id: str, status: str, reason: str | None) -> None:
        """A per-resource stack event, as CloudFormation writes for each resource it touches."""
        resource = stack.resource_map._parsed_resources.get(logical_id)
        physical_id = getattr(resource, "physical_resource_id", None)
        resource_json = (stack.resource_map._resource_json_map or {}).get(logical_id) or {}
        stack.events.append(
            cfn_models.Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical_id,
                physical_resource_id=physical_id if isinstance(physical_id, str) else "",
                resource_type=str(resource_json.get("Type") or ""),
                resource_status=status,
                resource_status_reason=reason,
                resource_properties=None,
            )
        )

    def tag_failing_resource(original: Any) -> Any:
        """Wrap parse_and_create/update_resource so a resource's error names the resource (the
        per-resource *_FAILED event needs its logical id)."""

        def wrapped(logical_id: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(logical_id, *args, **kwargs)
            except Exception as error:
                if not hasattr(error, "s3p_logical_id"):
                    error.s3p_logical_id = logical_id  # type: ignore[attr-defined]
                raise

        return wrapped

    parsing.parse_and_create_resource = tag_failing_resource(parsing.parse_and_create_resource)
    parsing.parse_and_update_resource = tag_failing_resource(parsing.parse_and_update_resource)

    def roll_back(stack: Any, operation: str, error: Exception) -> None:
        """A resource failed: record it and roll back as CloudFormation does, with the events it
        writes. The failing resource gets ``<OP>_IN_PROGRESS`` and ``<OP>_FAILED`` with the reason
        (moto let the error escape, or the first launcher wrote a stack-level event). A failed
        create deletes what it created (Retain resources stay) and ends ROLLBACK_COMPLETE. A
        failed update re-applies the previous template to the resources, so they are as before
        (UPDATE_ROLLBACK_COMPLETE); if that fails too the stack is UPDATE_ROLLBACK_FAILED."""
        reason = getattr(error, "message", None) or str(error) or type(error).__name__
        logical_id = getattr(error, "s3p_logical_id", None)
        if logical_id:
            resource_event(stack, logical_id, f"{operation}_IN_PROGRESS", None)
            resource_event(stack, logical_id, f"{operation}_FAILED", reason)
            failed = f"The following resource(s) failed to {operation.lower()}: [{logical_id}]. "
        else:
            failed = f"Stack operation failed: {reason}"
        if operation == "CREATE":
            stack._add_stack_event(
                "ROLLBACK_IN_PROGRESS", resource_status_reason=failed + "Rollback requested by user."
            )
            try:
                stack.resource_map.delete()
            except Exception:  # noqa: BLE001 - best effort, as a real rollback can fail too
                pass
            freeze(stack, keep_outputs=False)
            stack._add_stack_event("ROLLBACK_COMPLETE")
            stack.status = "ROLLBACK_COMPLETE"
            return
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=failed)
        stack._parse_template()  # stack.template is still the previous one
        try:
            stack.resource_map.update(stack.template_dict, stack.parameters or None)
        except Exception as rollback_error:  # noqa: BLE001 - reported as AWS would
            reason = getattr(rollback_error, "message", None) or str(rollback_error)
            stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=reason)
            stack.status = "UPDATE_ROLLBACK_FAILED"
            return
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"

    original_create_resources = cfn_models.Stack.create_resources

    def create_resources(self: Any) -> None:
        # moto let a resource error escape CreateStack (the call failed, e.g. BucketAlreadyExists);
        # on AWS CreateStack succeeds and the stack ends ROLLBACK_COMPLETE.
        try:
            original_create_resources(self)
        except Exception as error:  # noqa: BLE001 - any resource failure fails the stack
            roll_back(self, "CREATE", error)

    cfn_models.Stack.create_resources = create_resources

    original_create_change_set = backend_class.create_change_set

    def create_change_set(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
        """moto computes a change set for any difference in the template text. AWS does not
        update a stack whose only change is in its Metadata or Outputs sections ("you cannot
        update the Metadata section by itself", and the same for outputs): such a change set
        fails as an empty one does. A change of resources, stack tags or parameters counts."""
        change_set_id, stack_id = original_create_change_set(self, *args, **kwargs)
        change_set = self.change_sets[change_set_id]
        stack = change_set.stack
        if change_set.change_set_type != "UPDATE" or change_set.status == "FAILED":
            return change_set_id, stack_id

        def significant(template: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in template.items() if k not in ("Metadata", "Outputs")}

        stack._parse_template()
        new_template = stack.parse_template(change_set.template)
        same_tags = (change_set.tags or stack.tags) == stack.tags
        if (
            significant(new_template) == significant(stack.template_dict)
            and stack.has_parameters(change_set.parameters)
            and same_tags
        ):
            change_set.status = "FAILED"
            change_set.execution_status = "UNAVAILABLE"
            change_set.status_reason = (
                "The submitted information didn't contain changes. Submit different "
                "information to create a change set."
            )
        return change_set_id, stack_id

    backend_class.create_change_set = create_change_set

    original_execute = backend_class.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = change_set.stack
        try:
            original_execute(self, change_set_name=change_set.change_set_id, stack_name=stack_name)
        except Exception as error:  # noqa: BLE001 - same as create_resources above
            roll_back(stack, change_set.change_set_type, error)
            change_set.execution_status = "EXECUTE_FAILED"
            return
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.output_map = stack._create_output_map()
        if change_set.change_set_type == "UPDATE" and change_set.tags:
            stack.tags = change_set.tags
        # AWS deletes every change set of a stack once one of them is executed.
        for arn in [a for a, cs in self.change_sets.items() if cs.stack_id == stack.stack_id]:
            del self.change_sets[arn]

    backend_class.execute_change_set = execute_change_set

    detailed_create_change_set = backend_class.create_change_set

    def create_change_set_unique(self: Any, stack_name: str, *args: Any, **kwargs: Any) -> Any:
        """Stack names are unique among live stacks: a CREATE change set for a name that a stack
        (even REVIEW_IN_PROGRESS) already has is AlreadyExistsException on AWS; moto made a
        second stack of the same name."""
        change_set_type = kwargs.get("change_set_type")
        if change_set_type is None and len(args) >= 5:
            change_set_type = args[4]
        if change_set_type != "UPDATE" and any(
            stack.name == stack_name and stack.status != "DELETE_COMPLETE"
            for stack in self.stacks.values()
        ):
            from moto.cloudformation.exceptions import AlreadyExistsException

            raise AlreadyExistsException(f"Stack [{stack_name}] already exists")
        return detailed_create_change_set(self, stack_name, *args, **kwargs)

    backend_class.create_change_set = create_change_set_unique

    def change_set_arn(response: Any) -> str:
        """The ARN of the change set named in the request, within StackName when given."""
        name = response._get_param("ChangeSetName")
        stack = response._get_param("StackName")
        backend = response.cloudformation_backend
        if name in backend.change_sets or not stack:
            return name
        for arn, change_set in backend.change_sets.items():
            if change_set.change_set_name == name and stack in (
                change_set.stack_name,
                change_set.stack_id,
            ):
                return arn
        raise ValidationError(message=f"ChangeSet [{name}] does not exist")

    def describe_change_set_response(self: Any) -> Any:
        change_set = self.cloudformation_backend.describe_change_set(change_set_arn(self))
        return ActionResult(change_set)

    def execute_change_set_response(self: Any) -> Any:
        self.cloudformation_backend.execute_change_set(
            change_set_name=change_set_arn(self), stack_name=self._get_param("StackName")
        )
        return EmptyResult()

    def delete_change_set_response(self: Any) -> Any:
        self.cloudformation_backend.delete_change_set(change_set_name=change_set_arn(self))
        return EmptyResult()

    response_class.describe_change_set = describe_change_set_response
    response_class.execute_change_set = execute_change_set_response
    response_class.delete_change_set = delete_change_set_response

    original_diff = cfn_models.ChangeSet.diff

    def diff(self: Any) -> list[Any]:
        changes = original_diff(self)
        old_resources = self.stack.resource_map._resource_json_map or {}
        new_resources = (self.template_dict or {}).get("Resources") or {}
        for change in changes:
            detail_change(change, old_resources, new_resources, self.stack.resource_map)
        add_reference_changes(
            changes,
            new_resources,
            self.stack.resource_map,
            lambda action, logical_id, kind: cfn_models.Change(
                action=action, logical_resource_id=logical_id, resource_type=kind
            ),
        )
        return changes

    cfn_models.ChangeSet.diff = diff

    original_validate = response_class.validate_template

    def validate_template(self: Any) -> Any:
        try:
            return original_validate(self)
        except ValidationError as error:
            message = getattr(error, "message", "") or ""
            prefix, suffix = "Stack with id ", " does not exist"
            if message.startswith(prefix) and message.endswith(suffix):
                finding = message[len(prefix) : -len(suffix)]
                raise ValidationError(message=f"Template format error: {finding}") from None
            raise

    response_class.validate_template = validate_template

    def not_implemented(operation: str) -> Any:
        """moto has no drift detection: it answered HTTP 500, which SDKs retry as transient (the
        Rust SDK's standard mode backs off for ~30 s before giving up). Answer at once with a
        non-retryable 501 NotImplemented that names the operation instead."""

        def respond(self: Any) -> Any:
            body = (
                '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
                "<Error><Type>Sender</Type><Code>NotImplemented</Code>"
                f"<Message>{operation} is not implemented by the local AWS emulator (moto)</Message>"
                "</Error><RequestId>s3p-moto</RequestId></ErrorResponse>"
            )
            return body, {"status": 501, "Content-Type": "text/xml"}

        return respond

    install_revert_drift(backend_class, response_class, cfn_models, ValidationError)

    for operation in (
        "DetectStackDrift",
        "DescribeStackDriftDetectionStatus",
        "DescribeStackResourceDrifts",
        "DetectStackResourceDrift",
    ):
        method = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
        if not hasattr(response_class, method):
            setattr(response_class, method, not_implemented(operation))


# AWS::S3::Bucket properties whose live value the launcher reads back from moto's S3 backend for
# a drift-aware change set (DeploymentMode REVERT_DRIFT). Drift of any other property (encryption,
# lifecycle) or of another resource type is not modelled: such changes report ResourceDriftStatus
# UNKNOWN ("could not be determined"), never IN_SYNC.
DRIFT_COMPARED_BUCKET_PROPERTIES = (
    "VersioningConfiguration",
    "PublicAccessBlockConfiguration",
    "OwnershipControls",
    "Tags",
)


def live_bucket_properties(backend: Any, bucket_name: str) -> dict[str, Any]:
    """The bucket's live settings in CloudFormation's property shape (only
    DRIFT_COMPARED_BUCKET_PROPERTIES; an unset setting is absent). Tags without the ``aws:``
    system tags, which are not part of the template (as in AWS's drift detection)."""
    bucket = backend.get_bucket(bucket_name)
    live: dict[str, Any] = {}
    if bucket.versioning_status:
        live["VersioningConfiguration"] = {"Status": bucket.versioning_status}
    block = bucket.public_access_block
    if block is not None:
        live["PublicAccessBlockConfiguration"] = {
            "BlockPublicAcls": bool(block.block_public_acls),
            "BlockPublicPolicy": bool(block.block_public_policy),
            "IgnorePublicAcls": bool(block.ignore_public_acls),
            "RestrictPublicBuckets": bool(block.restrict_public_buckets),
        }
    ownership = bucket.ownership_rule
    if isinstance(ownership, dict):
        ownership = ownership.get("ObjectOwnership")
    if ownership:
        live["OwnershipControls"] = {"Rules": [{"ObjectOwnership": str(ownership)}]}
    tags = backend.tagger.get_tag_dict_for_resource(bucket.arn)
    live["Tags"] = {k: v for k, v in tags.items() if not k.startswith("aws:")}
    return live


def _at_path(properties: dict[str, Any], path: str) -> Any:
    """The value at ``/Properties/A/0/B`` in a resource's Properties, or _MISSING."""
    value: Any = properties
    for part in path.split("/")[2:]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _tag_leaves(template_tags: Any, live: dict[str, str]) -> list[tuple[str, Any, Any, str]]:
    """(path, live, template, change type) for tags: matched by key, at the template's index (an
    extra live tag is a Remove after the template's tags, a missing one an Add)."""
    listed = [t for t in _as_list(template_tags) if isinstance(t, dict) and "Key" in t]
    leaves: list[tuple[str, Any, Any, str]] = []
    for index, tag in enumerate(listed):
        key, want = str(tag["Key"]), str(tag.get("Value") or "")
        if key not in live:
            leaves.append((f"/Properties/Tags/{index}", _MISSING, tag, "Add"))
        elif live[key] != want:
            leaves.append((f"/Properties/Tags/{index}/Value", live[key], want, "Modify"))
    keys = {str(t["Key"]) for t in listed}
    for offset, key in enumerate(sorted(k for k in live if k not in keys)):
        leaves.append(
            (
                f"/Properties/Tags/{len(listed) + offset}",
                {"Key": key, "Value": live[key]},
                _MISSING,
                "Remove",
            )
        )
    return leaves


def bucket_drift_details(
    template: dict[str, Any], previous: dict[str, Any], live: dict[str, Any]
) -> list[dict[str, Any]]:
    """The Details a drift-aware change set gives a bucket: one per live leaf that differs from
    the new template (compared: DRIFT_COMPARED_BUCKET_PROPERTIES), with BeforeValue the live value
    (BeforeValueFrom ACTUAL_STATE), AfterValue the template's (AfterValueFrom TEMPLATE) and Drift
    (ActualValue, PreviousValue: the last deployment's value)."""
    leaves: list[tuple[str, Any, Any, str]] = []
    for name in DRIFT_COMPARED_BUCKET_PROPERTIES:
        if name == "Tags":
            leaves.extend(_tag_leaves(template.get("Tags"), live.get("Tags") or {}))
            continue
        want = template.get(name, _MISSING)
        got = live.get(name, _MISSING)
        if name == "VersioningConfiguration" and want is _MISSING:
            continue  # versioning cannot be un-set: a template without it accepts any state
        _leaf_changes(f"/Properties/{name}", got, want, leaves)
    details = []
    for path, actual, after, change_type in leaves:
        name = path.split("/")[2]
        prior = _at_path(previous, path)
        target: dict[str, Any] = {
            "Attribute": "Tags" if name == "Tags" else "Properties",
            "Name": name,
            "RequiresRecreation": "Never",
            "Path": path,
            "AttributeChangeType": change_type,
            "BeforeValueFrom": "ACTUAL_STATE",
            "AfterValueFrom": "TEMPLATE",
            "Drift": {},
        }
        if actual is not _MISSING:
            target["BeforeValue"] = _value_text(actual)
            target["Drift"]["ActualValue"] = _value_text(actual)
        if prior is not _MISSING:
            target["Drift"]["PreviousValue"] = _value_text(prior)
        if after is not _MISSING:
            target["AfterValue"] = _value_text(after)
        details.append(
            {"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"}
        )
    return details


def install_revert_drift(
    backend_class: Any, response_class: Any, cfn_models: Any, validation_error: Any
) -> None:
    """Drift-aware change sets (moto ignores DeploymentMode: the change set of an unchanged
    template was empty, or failed as "didn't contain changes").

    On AWS, CreateChangeSet with DeploymentMode REVERT_DRIFT compares the live resources with the
    new template: each drifted property becomes a change whose BeforeValue is the live value and
    AfterValue the template's, with its Drift; the change set reports DeploymentMode and
    StackDriftStatus, every resource change its ResourceDriftStatus; executing it puts the drifted
    properties back. Here the live state is read from moto's S3 backend when the change set is
    created (DRIFT_COMPARED_BUCKET_PROPERTIES), and executing it re-applies the template's
    properties to each drifted bucket through the same code that applies them on create and
    update. What a later check reads is then the bucket itself. A REVERT_DRIFT CREATE change set
    is not modelled (501 NotImplemented); another mode value is AWS's enum ValidationError."""
    original_response = response_class.create_change_set

    def create_change_set(self: Any) -> Any:
        mode = self._get_param("DeploymentMode")
        if mode is None:
            return original_response(self)
        if mode != "REVERT_DRIFT":
            raise validation_error(
                message=f"1 validation error detected: Value '{mode}' at 'deploymentMode' "
                "failed to satisfy constraint: Member must satisfy enum value set: [REVERT_DRIFT]"
            )
        if self._get_param("ChangeSetType", "CREATE") != "UPDATE":
            body = (
                '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
                "<Error><Type>Sender</Type><Code>NotImplemented</Code>"
                "<Message>DeploymentMode REVERT_DRIFT on a CREATE change set is not modelled by "
                "the moto launcher</Message></Error><RequestId>s3p-moto</RequestId></ErrorResponse>"
            )
            return body, {"status": 501, "Content-Type": "text/xml"}
        result = original_response(self)
        name, stack_name = self._get_param("ChangeSetName"), self._get_param("StackName")
        backend = self.cloudformation_backend
        for change_set in backend.change_sets.values():
            if change_set.change_set_name == name and stack_name in (
                change_set.stack_name,
                change_set.stack_id,
            ):
                make_drift_aware(change_set)
        return result

    def make_drift_aware(change_set: Any) -> None:
        stack = change_set.stack
        previous = stack.resource_map._resource_json_map or {}
        new = (change_set.template_dict or {}).get("Resources") or {}
        by_id = {c.logical_resource_id: c for c in change_set.changes}
        reverts: dict[str, dict[str, Any]] = {}
        for logical_id, resource in new.items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::S3::Bucket":
                continue
            bucket = stack.resource_map._parsed_resources.get(logical_id)
            if bucket is None or not hasattr(bucket, "name"):
                continue  # not deployed yet: nothing to drift
            backend = patch_moto.backend_for(stack.account_id, stack.region_name)  # type: ignore[attr-defined]
            properties = resource.get("Properties") or {}
            drift = bucket_drift_details(
                properties,
                (previous.get(logical_id) or {}).get("Properties") or {},
                live_bucket_properties(backend, bucket.name),
            )
            change = by_id.get(logical_id)
            if drift and change is None:
                change = cfn_models.Change(
                    action="Modify", logical_resource_id=logical_id, resource_type="AWS::S3::Bucket"
                )
                change.physical_resource_id = bucket.name
                change.details = []
                change.replacement = "False"
                change_set.changes.append(change)
                by_id[logical_id] = change
            if change is None:
                continue
            if drift:
                drifted = {d["Target"]["Path"] for d in drift}
                change.details = [
                    d for d in getattr(change, "details", []) or []
                    if d["Target"].get("Path") not in drifted
                ] + drift
                change.scope = sorted({d["Target"]["Attribute"] for d in change.details})
                reverts[logical_id] = properties
            change.resource_drift_status = "MODIFIED" if drift else "IN_SYNC"
        for change in change_set.changes:
            if getattr(change, "resource_drift_status", None) is None:
                change.resource_drift_status = "UNKNOWN"  # not compared by the launcher
        change_set.deployment_mode = "REVERT_DRIFT"
        change_set.stack_drift_status = "DRIFTED" if reverts else "IN_SYNC"
        change_set.s3p_revert = reverts
        if reverts and change_set.status == "FAILED":
            # Moto (or the Metadata patch) found the template unchanged; the drift is a change.
            change_set.status = "CREATE_COMPLETE"
            change_set.execution_status = "AVAILABLE"
            change_set.status_reason = None

    response_class.create_change_set = create_change_set

    patched_execute = backend_class.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        reverts = getattr(change_set, "s3p_revert", {})
        stack = change_set.stack
        patched_execute(self, change_set_name, stack_name)
        if not reverts or change_set.execution_status == "EXECUTE_FAILED":
            return
        backend = patch_moto.backend_for(stack.account_id, stack.region_name)  # type: ignore[attr-defined]
        for logical_id, properties in reverts.items():
            bucket = stack.resource_map._parsed_resources.get(logical_id)
            with SYSTEM_TAG_WRITER:
                patch_moto.apply_bucket_properties(  # type: ignore[attr-defined]
                    backend, bucket.name, properties, updating=True
                )

    backend_class.execute_change_set = execute_change_set


# Properties whose change replaces the resource (CloudFormation "RequiresRecreation: Always"),
# for the resource types S3 Provisioner deploys. Anything else updates in place.
REPLACEMENT_PROPERTIES = {
    "AWS::S3::Bucket": {"BucketName", "ObjectLockEnabled"},
    "AWS::S3::BucketPolicy": {"Bucket"},
    "AWS::SSM::Parameter": {"Name"},
    "AWS::EC2::VPCEndpoint": {"VpcId", "ServiceName", "VpcEndpointType"},
}


def _value_text(value: Any) -> str:
    """How a Before/AfterValue reads: scalars as text (booleans lowercase), subtrees as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _leaf_changes(path: str, old: Any, new: Any, out: list[tuple[str, Any, Any, str]]) -> None:
    """(path, before, after, change type) for every differing leaf; an added or removed subtree
    is one entry."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            _leaf_changes(f"{path}/{key}", old.get(key, _MISSING), new.get(key, _MISSING), out)
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            _leaf_changes(
                f"{path}/{index}",
                old[index] if index < len(old) else _MISSING,
                new[index] if index < len(new) else _MISSING,
                out,
            )
    elif old is _MISSING and new is not _MISSING:
        out.append((path, _MISSING, new, "Add"))
    elif new is _MISSING and old is not _MISSING:
        out.append((path, old, _MISSING, "Remove"))
    elif old != new:
        out.append((path, old, new, "Modify"))


_MISSING = object()


def detail_change(change: Any, old_resources: dict, new_resources: dict, resource_map: Any) -> None:
    """Fill the fields AWS returns for a change (moto sets only Action, LogicalResourceId and
    ResourceType): PhysicalResourceId, Replacement, Scope and, for a Modify, one Details entry per
    changed leaf (Target.Path like /Properties/VersioningConfiguration/Status, Before/AfterValue).
    Values are the template's own (intrinsic functions unresolved)."""
    logical_id = change.logical_resource_id
    resource = resource_map._parsed_resources.get(logical_id)
    physical_id = getattr(resource, "physical_resource_id", None)
    if isinstance(physical_id, str):
        change.physical_resource_id = physical_id
    if change.action != "Modify":
        change.details = []
        return
    old = (old_resources.get(logical_id) or {}).get("Properties") or {}
    new = (new_resources.get(logical_id) or {}).get("Properties") or {}
    replacing = REPLACEMENT_PROPERTIES.get(change.resource_type, set())
    leaves: list[tuple[str, Any, Any, str]] = []
    _leaf_changes("/Properties", old, new, leaves)
    details = []
    for path, before, after, change_type in leaves:
        name = path.split("/")[2]
        target: dict[str, Any] = {
            "Attribute": "Tags" if name == "Tags" else "Properties",
            "Name": name,
            "RequiresRecreation": "Always" if name in replacing else "Never",
            "Path": path,
            "AttributeChangeType": change_type,
        }
        if before is not _MISSING:
            target["BeforeValue"] = _value_text(before)
        if after is not _MISSING:
            target["AfterValue"] = _value_text(after)
        details.append(
            {"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"}
        )
    change.details = details
    change.scope = sorted({d["Target"]["Attribute"] for d in details})
    change.replacement = (
        "True" if any(d["Target"]["RequiresRecreation"] == "Always" for d in details) else "False"
    )


def _references(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, Fn::GetAtt, ${X} / ${X.Attr} in Fn::Sub)."""
    import re

    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
                found.update(_references(inner))
            else:
                found.update(_references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(_references(inner))
    return {ref for ref in found if not ref.startswith("AWS::")}


KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"


def add_reference_changes(
    changes: list[Any], new_resources: dict, resource_map: Any, make_change: Any
) -> None:
    """What AWS adds for a resource whose properties refer to a resource being replaced: the new
    physical id (and attributes) are known only when the change set runs, so each referring
    property gets a detail with ``ChangeSource: ResourceReference``, ``CausingEntity`` the
    replaced resource and ``Evaluation: Dynamic``; a referring resource that had no change of its
    own becomes a Modify. A direct modification whose new value refers to a replaced resource is
    ``Dynamic`` with AfterValue ``{{changeSet:KNOWN_AFTER_APPLY}}`` (Static otherwise: the
    launcher's values are the template's own, which AWS also knows before applying)."""
    replaced = {
        c.logical_resource_id for c in changes if getattr(c, "replacement", None) == "True"
    }
    if not replaced:
        return
    by_id = {c.logical_resource_id: c for c in changes}
    for logical_id, resource in new_resources.items():
        if logical_id in replaced or not isinstance(resource, dict):
            continue
        properties = resource.get("Properties") or {}
        kind = str(resource.get("Type") or "")
        replacing = REPLACEMENT_PROPERTIES.get(kind, set())
        reference_details = []
        for name, value in properties.items():
            for cause in sorted(_references(value) & replaced):
                reference_details.append(
                    {
                        "Target": {
                            "Attribute": "Tags" if name == "Tags" else "Properties",
                            "Name": name,
                            "RequiresRecreation": "Always" if name in replacing else "Never",
                        },
                        "Evaluation": "Dynamic",
                        "ChangeSource": "ResourceReference",
                        "CausingEntity": cause,
                    }
                )
        if not reference_details:
            continue
        change = by_id.get(logical_id)
        if change is None:
            change = make_change("Modify", logical_id, kind)
            physical_id = getattr(
                resource_map._parsed_resources.get(logical_id), "physical_resource_id", None
            )
            if isinstance(physical_id, str):
                change.physical_resource_id = physical_id
            change.details = []
            changes.append(change)
        if change.action != "Modify":
            continue
        for detail in change.details:
            name = detail["Target"]["Name"]
            if _references(properties.get(name)) & replaced:
                detail["Evaluation"] = "Dynamic"
                detail["Target"]["AfterValue"] = KNOWN_AFTER_APPLY
        change.details.extend(reference_details)
        change.scope = sorted({d["Target"]["Attribute"] for d in change.details})
        recreate = [d["Target"]["RequiresRecreation"] for d in change.details]
        # A replacement that depends on a value known only after apply is Conditional on AWS.
        change.replacement = (
            "True"
            if any(
                d["Target"]["RequiresRecreation"] == "Always" and d["Evaluation"] == "Static"
                for d in change.details
            )
            else "Conditional"
            if "Always" in recreate
            else "False"
        )


class _PatchCloudFormationOnImport:
    """Meta-path hook: run patch_cloudformation right after moto.cloudformation.responses is
    imported (lazily, by the first CloudFormation request), keeping server start-up cheap."""

    target = "moto.cloudformation.responses"

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.target:
            return None
        import importlib.util

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module: Any) -> None:
            original_exec(module)
            patch_cloudformation()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install_fault_injection(spec: str) -> None:
    """Robustness tests only (``S3P_MOTO_FAULTS``): make chosen requests slow or throttled, the
    way a congested or rate-limited AWS endpoint is. It never changes what an answer says; a
    throttled request gets AWS's own ``Throttling`` error and nothing is executed.

    ``spec`` is a JSON list of rules, each ``{"match": REGEX, "delay": SECONDS}`` or
    ``{"match": REGEX, "throttle": FRACTION}``, matched against ``"METHOD /path?query Action"``
    (``Action`` is the query-protocol action, e.g. ``DescribeChangeSet``, or empty). Rules with
    ``"count": N`` apply to the first N matching requests only; with ``"body": REGEX`` only to
    requests whose URL-decoded form body also matches.

    ``{"match": "AssumeRole", "body": "RoleArn=arn:aws:iam::222222222222:role/", "deny": true}``
    refuses the role as STS does when its trust policy does not let the caller in (moto assumes
    any role): HTTP 403 with STS's ``AccessDenied`` error document, nothing assumed. A deny rule
    that matches any other request answers 501 ``NotImplemented`` (not modelled)."""
    import io
    import random
    import re
    import time
    import urllib.parse

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    rules = json.loads(spec)
    lock = threading.Lock()
    for rule in rules:
        rule["pattern"] = re.compile(rule["match"])
        if "body" in rule:
            rule["body_pattern"] = re.compile(rule["body"])
    original_call = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict, start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = ""
        found = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body)
        if found:
            action = found.group(1).decode()
        described = (
            f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"
            f"?{environ.get('QUERY_STRING', '')} {action}"
        )
        form = urllib.parse.unquote_plus(body.decode("utf-8", "replace"))
        for rule in rules:
            if not rule["pattern"].search(described):
                continue
            if "body_pattern" in rule and not rule["body_pattern"].search(form):
                continue
            with lock:
                if "count" in rule:
                    if rule["count"] <= 0:
                        continue
                    rule["count"] -= 1
            if "delay" in rule:
                time.sleep(float(rule["delay"]))
            if "throttle" in rule and random.random() < float(rule["throttle"]):
                payload = (
                    '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
                    "<Error><Type>Sender</Type><Code>Throttling</Code>"
                    "<Message>Rate exceeded</Message></Error>"
                    "<RequestId>s3p-fault</RequestId></ErrorResponse>"
                ).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))],
                )
                return [payload]
            if rule.get("deny"):
                return deny(action, form, start_response)
        return original_call(self, environ, start_response)

    def deny(action: str, form: str, start_response: Any) -> list[bytes]:
        if action != "AssumeRole":
            status, payload = "501 Not Implemented", (
                "<ErrorResponse><Error><Code>NotImplemented</Code><Message>the launcher's deny "
                f"rule models sts:AssumeRole only, not {action or 'this request'}</Message>"
                "</Error></ErrorResponse>"
            ).encode()
        else:
            from moto.core import DEFAULT_ACCOUNT_ID

            found = re.search(r"(?:^|&)RoleArn=([^&]*)", form)
            role_arn = found.group(1) if found else ""
            status, payload = "403 Forbidden", (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
                f"<Message>User: arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/moto is not authorized "
                f"to perform: sts:AssumeRole on resource: {role_arn}</Message></Error>"
                "<RequestId>s3p-fault</RequestId></ErrorResponse>"
            ).encode()
        start_response(
            status, [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))]
        )
        return [payload]

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


def exit_on_stdin_eof() -> None:
    """The test harness holds our stdin open; when it exits or crashes, stdin hits EOF."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def patch_recorder() -> None:
    """One request recorded at a time. moto's recorder appends each entry to its file in two
    unsynchronised writes (the JSON, then a newline), so on the threaded server two concurrent
    requests can land on one line ("{...}{...}\n\n") and the recording no longer parses."""
    from moto.moto_api._internal.recorder.models import Recorder

    record = Recorder._record_request
    lock = threading.Lock()

    def record_whole(self: Any, request: Any, body: bytes | None = None) -> None:
        with lock:
            record(self, request, body)

    Recorder._record_request = record_whole


def install_patches() -> None:
    """Patch moto in this process (also used by moto_launcher_test.py, the patches' own tests)."""
    patch_moto()
    patch_s3_xml_roots()
    patch_recorder()
    if "moto.cloudformation.responses" in sys.modules:
        patch_cloudformation()
    else:
        sys.meta_path.insert(0, _PatchCloudFormationOnImport())


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # One log line per request would only fill the harness's stderr file.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    install_patches()
    faults = os.environ.get("S3P_MOTO_FAULTS")
    if faults:
        install_fault_injection(faults)

    from moto.server import ThreadedMotoServer

    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()  # returns once the socket is bound and listening
    _, port = server.get_host_and_port()
    sys.stdout.write(f"PORT={port}\n")
    sys.stdout.flush()
    # Nothing else may reach the harness through stdout: send stray prints to stderr.
    os.dup2(2, 1)
    threading.Event().wait()  # serve until stdin EOF ends the process


if __name__ == "__main__":
    main()
