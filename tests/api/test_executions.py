"""Executions through boto3: StartSyncExecution (output, error and cause,
billing details), StartExecution and the store (DescribeExecution,
ListExecutions with a status filter and pages, GetExecutionHistory,
DescribeStateMachineForExecution), StopExecution of a waiting execution,
and a `.waitForTaskToken` task answered from another thread."""

import json
import threading
import unittest
import urllib.error
import urllib.request

from botocore.exceptions import ClientError

from common import ENDPOINT, PASS, PREFIX, ROLE, client, create, definition, error_code, poll

LOG_ALL = {"level": "ALL", "includeExecutionData": True}

CALLBACK = definition(
    {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token", "order.$": "$.order"},
            "ResultPath": "$.answer",
            "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejected", "Next": "Done"}],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
    "Ask",
)

WAIT = definition(
    {"W": {"Type": "Wait", "Seconds": 120, "Next": "P"}, "P": {"Type": "Pass", "End": True}},
    "W",
)

FAIL = definition(
    {"F": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}}, "F"
)


def describe_when_done(c, arn):
    return poll(
        lambda: c.describe_execution(executionArn=arn),
        lambda d: d["status"] != "RUNNING",
    )


def token_of(c, arn):
    """The task token the execution's TaskScheduled event carries in its
    parameters (the state machine logs ALL with data)."""
    def scheduled():
        events = c.get_execution_history(executionArn=arn)["events"]
        return [e for e in events if e["type"] == "TaskScheduled"]
    found = poll(scheduled, lambda e: len(e) > 0)
    return json.loads(found[0]["taskScheduledEventDetails"]["parameters"])["token"]


class Executions(unittest.TestCase):
    def setUp(self):
        self.c = client()

    def test_history_ids_are_unique_and_in_order_across_map_iterations(self):
        definition = json.dumps({"StartAt": "M", "States": {"M": {
            "Type": "Map", "End": True,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        }}})
        arn = create(self.c, "ex-map-history", definition, loggingConfiguration=LOG_ALL)
        started = self.c.start_execution(stateMachineArn=arn, input="[1, 2, 3]")
        self.assertEqual(describe_when_done(self.c, started["executionArn"])["status"], "SUCCEEDED")
        events = self.c.get_execution_history(executionArn=started["executionArn"])["events"]
        self.assertEqual([e["id"] for e in events], list(range(1, len(events) + 1)), events)
        types = [e["type"] for e in events]
        self.assertEqual(types.count("MapIterationStarted"), 3, types)
        self.assertEqual(types.count("PassStateEntered"), 3, types)
        self.assertEqual((types[0], types[-1]), ("ExecutionStarted", "ExecutionSucceeded"))
        # Each iteration's events come in their own order.
        for index in range(3):
            mine = [e["type"] for e in events if e.get("mapIterationStartedEventDetails", {}).get("index") == index]
            self.assertEqual(mine, ["MapIterationStarted"], (index, types))

    def test_sync_success_failure_and_billing(self):
        arn = create(self.c, "ex-sync")
        out = self.c.start_sync_execution(stateMachineArn=arn, name="first", input='{"x": 1}')
        self.assertEqual(out["status"], "SUCCEEDED")
        self.assertEqual(json.loads(out["output"]), {"ok": 1})
        self.assertEqual(out["input"], '{"x": 1}')
        self.assertEqual(out["name"], "first")
        self.assertEqual(out["stateMachineArn"], arn)
        self.assertTrue(out["executionArn"].startswith(PREFIX + "express:ex-sync:first:"))
        self.assertEqual(out["billingDetails"]["billedMemoryUsedInMB"], 64)
        self.assertEqual(out["billingDetails"]["billedDurationInMilliseconds"] % 100, 0)
        self.assertLessEqual(out["startDate"], out["stopDate"])
        failing = create(self.c, "ex-sync-fail", FAIL)
        out = self.c.start_sync_execution(stateMachineArn=failing)
        self.assertEqual((out["status"], out["error"], out["cause"]), ("FAILED", "Broken", "on purpose"))
        self.assertNotIn("output", out)
        meta = self.c.start_sync_execution(stateMachineArn=arn, includedData="METADATA_ONLY")
        self.assertNotIn("output", meta)
        standard = create(self.c, "ex-standard", kind="STANDARD")
        with self.assertRaises(ClientError) as e:
            self.c.start_sync_execution(stateMachineArn=standard)
        self.assertEqual(error_code(e.exception), "StateMachineTypeNotSupported")
        with self.assertRaises(ClientError) as e:
            self.c.start_sync_execution(stateMachineArn=arn, input="{not json")
        self.assertEqual(error_code(e.exception), "InvalidExecutionInput")
        with self.assertRaises(ClientError) as e:
            self.c.start_sync_execution(stateMachineArn=PREFIX + "stateMachine:absent")
        self.assertEqual(error_code(e.exception), "StateMachineDoesNotExist")

    def test_async_store_history_and_listing(self):
        arn = create(self.c, "ex-async", loggingConfiguration=LOG_ALL)
        failing = create(self.c, "ex-async-fail", FAIL)
        started = self.c.start_execution(stateMachineArn=arn, name="one", input='{"n": 1}')
        self.assertEqual(started["executionArn"], PREFIX + "execution:ex-async:one")
        with self.assertRaises(ClientError) as e:
            self.c.start_execution(stateMachineArn=arn, name="one")
        self.assertEqual(error_code(e.exception), "ExecutionAlreadyExists")
        d = describe_when_done(self.c, started["executionArn"])
        self.assertEqual((d["status"], json.loads(d["output"]), d["input"]), ("SUCCEEDED", {"ok": 1}, '{"n": 1}'))
        self.assertEqual(d["stateMachineArn"], arn)
        for i in range(4):
            self.c.start_execution(stateMachineArn=arn, name=f"more-{i}")
        f = self.c.start_execution(stateMachineArn=failing)
        fd = describe_when_done(self.c, f["executionArn"])
        self.assertEqual((fd["status"], fd["error"], fd["cause"]), ("FAILED", "Broken", "on purpose"))
        for i in range(4):
            describe_when_done(self.c, PREFIX + f"execution:ex-async:more-{i}")
        page = self.c.list_executions(stateMachineArn=arn, maxResults=2)
        self.assertEqual([e["name"] for e in page["executions"]], ["more-3", "more-2"], "newest first")
        rest = self.c.list_executions(stateMachineArn=arn, nextToken=page["nextToken"])
        self.assertEqual([e["name"] for e in rest["executions"]], ["more-1", "more-0", "one"])
        self.assertEqual(self.c.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"], [])
        failed = self.c.list_executions(stateMachineArn=failing, statusFilter="FAILED")["executions"]
        self.assertEqual([e["executionArn"] for e in failed], [f["executionArn"]])
        history = self.c.get_execution_history(executionArn=started["executionArn"])["events"]
        self.assertEqual(
            [e["type"] for e in history],
            ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"],
        )
        self.assertEqual([e["id"] for e in history], [1, 2, 3, 4])
        self.assertEqual(history[1]["stateEnteredEventDetails"], {"name": "P", "input": '{"n":1}', "inputDetails": {"truncated": False}})
        self.assertEqual(history[3]["previousEventId"], 3)
        reverse = self.c.get_execution_history(executionArn=started["executionArn"], reverseOrder=True, maxResults=3)
        self.assertEqual([e["id"] for e in reverse["events"]], [4, 3, 2])
        tail = self.c.get_execution_history(executionArn=started["executionArn"], reverseOrder=True, nextToken=reverse["nextToken"])
        self.assertEqual([e["id"] for e in tail["events"]], [1])
        no_data = self.c.get_execution_history(executionArn=started["executionArn"], includeExecutionData=False)["events"]
        self.assertNotIn("input", no_data[1]["stateEnteredEventDetails"])
        sm = self.c.describe_state_machine_for_execution(executionArn=started["executionArn"])
        self.assertEqual((sm["stateMachineArn"], sm["definition"], sm["roleArn"]), (arn, PASS, ROLE))
        with self.assertRaises(ClientError) as e:
            self.c.describe_execution(executionArn=PREFIX + "execution:ex-async:never")
        self.assertEqual(error_code(e.exception), "ExecutionDoesNotExist")

    def test_stop_a_waiting_execution(self):
        arn = create(self.c, "ex-stop", WAIT)
        started = self.c.start_execution(stateMachineArn=arn, name="waits")
        self.assertEqual(self.c.describe_execution(executionArn=started["executionArn"])["status"], "RUNNING")
        running = self.c.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
        self.assertEqual([e["name"] for e in running], ["waits"])
        self.c.stop_execution(executionArn=started["executionArn"], error="Operator", cause="no longer needed")
        d = describe_when_done(self.c, started["executionArn"])
        self.assertEqual((d["status"], d["error"], d["cause"]), ("ABORTED", "Operator", "no longer needed"))
        self.assertIn("stopDate", d)

    def test_callback_answered_from_another_thread(self):
        arn = create(self.c, "ex-callback", CALLBACK, loggingConfiguration=LOG_ALL)
        started = self.c.start_execution(stateMachineArn=arn, input='{"order": 7}')
        execution = started["executionArn"]
        answered = []

        def worker():
            c = client()
            token = token_of(c, execution)
            c.send_task_heartbeat(taskToken=token)
            c.send_task_success(taskToken=token, output='{"approved": true}')
            answered.append(token)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(30)
        self.assertEqual(len(answered), 1)
        d = describe_when_done(self.c, execution)
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"order": 7, "answer": {"approved": True}})
        with self.assertRaises(ClientError) as e:
            self.c.send_task_success(taskToken=answered[0], output="{}")
        self.assertEqual(error_code(e.exception), "TaskTimedOut", "a token already answered")
        # A failure the Catch handles.
        second = self.c.start_execution(stateMachineArn=arn, input='{"order": 8}')["executionArn"]
        token = token_of(self.c, second)
        with self.assertRaises(ClientError) as e:
            self.c.send_task_success(taskToken=token, output="{not json")
        self.assertEqual(error_code(e.exception), "InvalidOutput")
        self.c.send_task_failure(taskToken=token, error="Rejected", cause="out of stock")
        d = describe_when_done(self.c, second)
        self.assertEqual(json.loads(d["output"])["rejected"], {"Error": "Rejected", "Cause": "out of stock"})
        for bad in ["not-a-token", "A" * 47]:
            with self.assertRaises(ClientError) as e:
                self.c.send_task_heartbeat(taskToken=bad)
            self.assertEqual(error_code(e.exception), "InvalidToken", bad)


class PlainHttp(unittest.TestCase):
    def post(self, name, body):
        request = urllib.request.Request(ENDPOINT + "/start-sync/" + name, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_start_sync_over_plain_http(self):
        c = client()
        create(c, "plain-ok", definition({"P": {"Type": "Pass", "Parameters": {"got.$": "$.x"}, "End": True}}, "P"))
        create(c, "plain-fail", FAIL)
        self.assertEqual(self.post("plain-ok", b'{"x": [1, 2]}'), (200, {"got": [1, 2]}))
        self.assertEqual(self.post("plain-fail", b"{}"), (500, {"error": "Broken", "cause": "on purpose"}))
        status, answer = self.post("plain-absent", b"{}")
        self.assertEqual((status, answer["error"]), (404, "StateMachineDoesNotExist"))
        status, answer = self.post("plain-ok", b"{oops")
        self.assertEqual((status, answer["error"]), (400, "InvalidExecutionInput"))
        status, answer = self.post("plain-ok", b'"' + b"x" * 300_000 + b'"')
        self.assertEqual(status, 413)


if __name__ == "__main__":
    unittest.main(verbosity=2)
