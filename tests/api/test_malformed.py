"""Malformed requests get AWS's error shape (`__type`, `message`) and the
HTTP status of the protocol, and change nothing: bad JSON, an unknown
action, wrong types, oversized payloads, bad definitions, unknown and
malformed ARNs, a duplicate name."""

import unittest

from botocore.exceptions import ClientError

from common import PASS, PASS2, PREFIX, ROLE, client, create, error_code, raw


class Malformed(unittest.TestCase):
    def setUp(self):
        self.c = client()
        self.arn = create(self.c, "mal-keep")

    def state(self):
        machines = [m["name"] for m in self.c.list_state_machines()["stateMachines"]]
        return machines, self.c.describe_state_machine(stateMachineArn=self.arn)["definition"]

    def expect(self, action, body, status, code):
        got_status, answer = raw(action, body)
        self.assertEqual((got_status, answer.get("__type")), (status, code), answer)
        self.assertTrue(answer.get("message"), answer)
        return answer

    def test_protocol_errors_change_nothing(self):
        before = self.state()
        self.expect("CreateStateMachine", b'{"name": "mal-x", "definition": ', 400, "SerializationException")
        self.expect("CreateStateMachine", b'[1, 2]', 400, "SerializationException")
        self.expect("FlyToTheMoon", {}, 400, "UnknownOperationException")
        self.expect(None, {}, 400, "MissingAction")
        answer = self.expect(
            "CreateStateMachine",
            {"name": 3, "definition": PASS, "roleArn": ROLE},
            400,
            "SerializationException",
        )
        self.assertIn("name", answer["message"])
        self.expect("CreateStateMachine", {"definition": PASS, "roleArn": ROLE}, 400, "ValidationException")
        self.expect(
            "CreateStateMachine",
            {"name": "mal-y", "definition": PASS, "roleArn": ROLE, "type": "HUGE"},
            400,
            "ValidationException",
        )
        self.expect(
            "CreateStateMachine",
            {"name": "bad name", "definition": PASS, "roleArn": ROLE},
            400,
            "InvalidName",
        )
        big = "x" * (2 * 1024 * 1024 + 100 * 1024)
        self.expect("StartExecution", {"stateMachineArn": self.arn, "input": big}, 413, "ValidationException")
        over = '"' + "y" * 262_144 + '"'
        self.expect("StartExecution", {"stateMachineArn": self.arn, "input": over}, 400, "ValidationException")
        self.assertEqual(self.c.list_executions(stateMachineArn=self.arn)["executions"], [])
        self.assertEqual(self.state(), before)

    def test_bad_definitions_arns_and_duplicates_change_nothing(self):
        before = self.state()
        with self.assertRaises(ClientError) as e:
            create(self.c, "mal-bad", '{"StartAt": "Nowhere", "States": {}}')
        self.assertEqual(error_code(e.exception), "InvalidDefinition")
        with self.assertRaises(ClientError) as e:
            create(self.c, "mal-keep", PASS2)
        self.assertEqual(error_code(e.exception), "StateMachineAlreadyExists")
        for arn, code in [
            ("not-an-arn", "InvalidArn"),
            (PREFIX + "activity:mal-keep", "InvalidArn"),
            (PREFIX + "stateMachine:mal-absent", "StateMachineDoesNotExist"),
            ("arn:aws:states:eu-west-1:999999999999:stateMachine:mal-keep", "StateMachineDoesNotExist"),
        ]:
            with self.assertRaises(ClientError) as e:
                self.c.start_execution(stateMachineArn=arn)
            self.assertEqual(error_code(e.exception), code, arn)
            with self.assertRaises(ClientError) as e:
                self.c.update_state_machine(stateMachineArn=arn, definition=PASS2)
            self.assertEqual(error_code(e.exception), code, arn)
        with self.assertRaises(ClientError) as e:
            self.c.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:x")
        self.assertEqual(error_code(e.exception), "InvalidArn")
        with self.assertRaises(ClientError) as e:
            self.c.list_state_machines(nextToken="%%%")
        self.assertEqual(error_code(e.exception), "InvalidToken")
        self.assertEqual(self.state(), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
