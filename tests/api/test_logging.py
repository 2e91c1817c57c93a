"""Execution logs through the API: a state machine's loggingConfiguration
sets what its executions write to `[api] log_destination` (a file here,
given as the first argument), and UpdateStateMachine changes it."""

import json
import sys
import time

from common import PASS, client, create, poll

LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/spate/test:*"


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(path, until, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        found = records(path)
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def main(path):
    c = client()
    logging = {
        "level": "ALL",
        "includeExecutionData": True,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}],
    }
    arn = create(c, "logged", PASS, loggingConfiguration=logging)
    sync = c.start_sync_execution(stateMachineArn=arn, input='{"n": 1}')
    assert sync["status"] == "SUCCEEDED", sync

    started = c.start_execution(stateMachineArn=arn, name="async-1", input='{"n": 2}')
    described = poll(
        lambda: c.describe_execution(executionArn=started["executionArn"]),
        lambda d: d["status"] != "RUNNING",
    )
    assert described["status"] == "SUCCEEDED", described
    # The store keeps the history of an ALL machine as well as logging it.
    history = c.get_execution_history(executionArn=started["executionArn"])["events"]
    assert history[0]["type"] == "ExecutionStarted", history

    found = wait_for(path, lambda r: sum(x["type"] == "ExecutionSucceeded" for x in r) >= 2)
    types = [r["type"] for r in found]
    assert types.count("ExecutionStarted") == 2, types
    assert types.count("ExecutionSucceeded") == 2, types
    assert "PassStateEntered" in types, types
    inputs = [r["details"].get("input") for r in found if r["type"] == "ExecutionStarted"]
    assert sorted(inputs) == ['{"n":1}', '{"n":2}'], inputs
    assert any(r["execution_arn"].endswith(":async-1") for r in found), found

    # ERROR keeps only failures: a succeeding execution writes nothing more.
    c.update_state_machine(
        stateMachineArn=arn,
        loggingConfiguration=dict(logging, level="ERROR"),
    )
    assert c.describe_state_machine(stateMachineArn=arn)["loggingConfiguration"]["level"] == "ERROR"
    before = len(found)
    assert c.start_sync_execution(stateMachineArn=arn, input="{}")["status"] == "SUCCEEDED"
    time.sleep(1.0)
    assert len(records(path)) == before, records(path)[before:]

    # A machine without logging writes nothing.
    quiet = create(c, "quiet", PASS)
    assert c.start_sync_execution(stateMachineArn=quiet, input="{}")["status"] == "SUCCEEDED"
    time.sleep(0.5)
    assert len(records(path)) == before, records(path)[before:]


if __name__ == "__main__":
    main(sys.argv[1])
    print("ok")
