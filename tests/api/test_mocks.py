"""Mocked integrations in Step Functions Local's format (mock-config.json,
passed with --mock-config): `<state machine ARN>#<test case>` runs the
case's responses by invocation number, for StartExecution and
StartSyncExecution, including a `.waitForTaskToken` task and an activity."""

import json
import unittest

from botocore.exceptions import ClientError

from common import PREFIX, client, create, definition, error_code, poll

ORDERS = definition(
    {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "BackoffRate": 1.0, "MaxAttempts": 2}],
            "ResultSelector": {"charged.$": "$.Payload.charged"},
            "ResultPath": "$.charge",
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
            "ResultPath": "$.notify",
            "Next": "Pack",
        },
        "Pack": {
            "Type": "Task",
            "Resource": PREFIX + "activity:packer",
            "ResultPath": "$.pack",
            "End": True,
        },
    },
    "Charge",
)


class Mocks(unittest.TestCase):
    def setUp(self):
        self.c = client()
        self.arn = create(self.c, "mock-orders", ORDERS)

    def test_cases_answer_by_invocation(self):
        out = self.c.start_sync_execution(stateMachineArn=self.arn + "#HappyPath", input='{"id": 1}')
        self.assertEqual(out["status"], "SUCCEEDED", out)
        self.assertEqual(
            json.loads(out["output"]),
            {"id": 1, "charge": {"charged": 42}, "notify": {"MessageId": "m-1"}, "pack": {"box": "small"}},
        )
        out = self.c.start_sync_execution(stateMachineArn=self.arn + "#RetryPath")
        self.assertEqual(json.loads(out["output"])["charge"], {"charged": 43}, "invocation 0 threw, 1 returned")
        started = self.c.start_execution(stateMachineArn=self.arn + "#FailPath")
        d = poll(lambda: self.c.describe_execution(executionArn=started["executionArn"]), lambda d: d["status"] != "RUNNING")
        self.assertEqual((d["status"], d["error"], d["cause"]), ("FAILED", "Card.Declined", "no funds"))
        with self.assertRaises(ClientError) as e:
            self.c.start_sync_execution(stateMachineArn=self.arn + "#NoSuchCase")
        self.assertEqual(error_code(e.exception), "ValidationException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
