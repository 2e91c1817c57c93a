"""Shared by the API tests: a boto3 client for the server under test
(SPATE_ENDPOINT), raw HTTP for requests no SDK would send, and definitions.

StartSyncExecution and TestState carry the endpoint host prefix `sync-` in
AWS's service model; against a local endpoint it must be turned off
(`inject_host_prefix=False`, or AWS_DISABLE_HOST_PREFIX_INJECTION=true for
the CLI), or the client calls http://sync-127.0.0.1:PORT.
"""

import json
import os
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

ENDPOINT = os.environ["SPATE_ENDPOINT"]
ROLE = "arn:aws:iam::123456789012:role/spate-test"
PREFIX = "arn:aws:states:us-east-1:123456789012:"


def client():
    return boto3.client(
        "stepfunctions",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
    )


def raw(action, body, headers=None):
    """POSTs `body` (bytes or a JSON-able object) as `action`; returns the
    HTTP status and the decoded JSON answer."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(ENDPOINT + "/", data=data, method="POST")
    request.add_header("Content-Type", "application/x-amz-json-1.0")
    if action is not None:
        request.add_header("X-Amz-Target", "AWSStepFunctions." + action)
    for k, v in (headers or {}).items():
        request.add_header(k, v)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def definition(states, start):
    return json.dumps({"StartAt": start, "States": states})


PASS = definition({"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}, "P")
PASS2 = definition({"P": {"Type": "Pass", "Result": {"ok": 2}, "End": True}}, "P")


def create(c, name, definition_text=PASS, kind="EXPRESS", **extra):
    return c.create_state_machine(
        name=name, definition=definition_text, roleArn=ROLE, type=kind, **extra
    )["stateMachineArn"]


def poll(fn, until, timeout=20.0):
    """Calls `fn` until `until(result)` holds (DescribeExecution is
    eventually consistent); returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if until(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def error_code(e):
    return e.response["Error"]["Code"]
