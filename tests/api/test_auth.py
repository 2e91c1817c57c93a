"""Authentication: run with `sigv4` against a server whose [api.auth] holds
the access key AKIDSPATETEST / spate-test-secret, or with `api_key` against
one that accepts `spate-valid-key-0001` and an expired
`spate-expired-key-01`. Wrong or missing credentials get AWS's error shape
and change nothing."""

import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from common import ENDPOINT, PASS, ROLE, raw


def sfn(key_id, secret):
    return boto3.client(
        "stepfunctions", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
    )


def refused(call, code):
    try:
        call()
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, e.response
        return
    raise AssertionError(f"expected {code}")


def create_body(name):
    return {"name": name, "definition": PASS, "roleArn": ROLE, "type": "EXPRESS"}


if sys.argv[1] == "sigv4":
    good = sfn("AKIDSPATETEST", "spate-test-secret")
    arn = good.create_state_machine(**create_body("auth-ok"))["stateMachineArn"]
    assert good.start_sync_execution(stateMachineArn=arn)["status"] == "SUCCEEDED"
    refused(lambda: sfn("AKIDSPATETEST", "wrong").create_state_machine(**create_body("auth-bad")), "AccessDeniedException")
    refused(lambda: sfn("AKIDUNKNOWN", "spate-test-secret").create_state_machine(**create_body("auth-bad")), "UnrecognizedClientException")
    status, answer = raw("CreateStateMachine", create_body("auth-bad"))
    assert (status, answer["__type"]) == (400, "UnrecognizedClientException"), answer
    names = [m["name"] for m in good.list_state_machines()["stateMachines"]]
    assert names == ["auth-ok"], names
else:
    ok = {"x-api-key": "spate-valid-key-0001"}
    status, answer = raw("CreateStateMachine", create_body("key-ok"), ok)
    assert status == 200, answer
    for headers, expected in [
        ({}, (400, "UnrecognizedClientException")),
        ({"x-api-key": "spate-wrong-key-0001"}, (400, "UnrecognizedClientException")),
        ({"x-api-key": "spate-expired-key-01"}, (403, "AccessDeniedException")),
    ]:
        status, answer = raw("CreateStateMachine", create_body("key-bad"), headers)
        assert (status, answer.get("__type")) == expected, (headers, status, answer)
    status, answer = raw("ListStateMachines", {}, ok)
    assert [m["name"] for m in answer["stateMachines"]] == ["key-ok"], answer
print("ok")
