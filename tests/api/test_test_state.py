"""TestState through boto3: one state on one input, with a mocked result or
error, its status (SUCCEEDED, FAILED, CAUGHT_ERROR, RETRIABLE), nextState,
and inspectionData after each JSONPath step."""

import json
import unittest

from common import client

TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "InputPath": "$.order",
    "Parameters": {"FunctionName": "price", "Payload.$": "$"},
    "ResultSelector": {"price.$": "$.Payload.price"},
    "ResultPath": "$.priced",
    "Next": "Ship",
}


class TestState(unittest.TestCase):
    def setUp(self):
        self.c = client()

    def run_state(self, state, input_value, **extra):
        return self.c.test_state(definition=json.dumps(state), input=json.dumps(input_value), **extra)

    def test_task_with_a_mocked_result_and_inspection(self):
        out = self.run_state(
            TASK, {"order": {"id": 7}},
            mock={"result": json.dumps({"Payload": {"price": 12}})}, inspectionLevel="DEBUG",
        )
        self.assertEqual((out["status"], out["nextState"]), ("SUCCEEDED", "Ship"))
        self.assertEqual(json.loads(out["output"]), {"order": {"id": 7}, "priced": {"price": 12}})
        data = {k: json.loads(v) for k, v in out["inspectionData"].items()}
        self.assertEqual(data["input"], {"order": {"id": 7}})
        self.assertEqual(data["afterInputPath"], {"id": 7})
        self.assertEqual(data["afterParameters"], {"FunctionName": "price", "Payload": {"id": 7}})
        self.assertEqual(data["result"], {"Payload": {"price": 12}})
        self.assertEqual(data["afterResultSelector"], {"price": 12})
        self.assertEqual(data["afterResultPath"], {"order": {"id": 7}, "priced": {"price": 12}})
        info = self.run_state(TASK, {"order": {}}, mock={"result": '{"Payload": {"price": 1}}'})
        self.assertNotIn("inspectionData", info)

    def test_errors_caught_retriable_and_failed(self):
        caught = dict(TASK, Catch=[{"ErrorEquals": ["Out.Of.Stock"], "ResultPath": "$.error", "Next": "Sorry"}])
        error = {"errorOutput": {"error": "Out.Of.Stock", "cause": "none left"}}
        out = self.run_state(caught, {"order": {}}, mock=error)
        self.assertEqual((out["status"], out["nextState"], out["error"]), ("CAUGHT_ERROR", "Sorry", "Out.Of.Stock"))
        self.assertEqual(json.loads(out["output"])["error"], {"Error": "Out.Of.Stock", "Cause": "none left"})
        retried = dict(caught, Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}])
        out = self.run_state(retried, {"order": {}}, mock=error)
        self.assertEqual((out["status"], out["error"]), ("RETRIABLE", "Out.Of.Stock"))
        out = self.run_state(TASK, {"order": {}}, mock=error)
        self.assertEqual((out["status"], out["cause"]), ("FAILED", "none left"))
        self.assertNotIn("output", out)

    def test_choice_and_a_state_of_a_machine(self):
        choice = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
            "Default": "Small",
        }
        self.assertEqual(self.run_state(choice, {"n": 9})["nextState"], "Big")
        self.assertEqual(self.run_state(choice, {"n": 1})["nextState"], "Small")
        machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Result": 1, "End": True}}}
        out = self.c.test_state(definition=json.dumps(machine), stateName="B", input="{}")
        self.assertEqual((out["status"], out["output"]), ("SUCCEEDED", "1"))
        self.assertNotIn("nextState", out)

    def test_variables_in_and_after_the_state(self):
        state = {
            "Type": "Pass",
            "Parameters": {"total.$": "States.MathAdd($base, $.n)"},
            "Assign": {"last.$": "$.total", "label": "{% not an expression in JSONPath %}"},
            "Next": "After",
        }
        out = self.run_state(
            state, {"n": 5}, variables=json.dumps({"base": 10, "note": "{% 1 + 1 %}"}),
            inspectionLevel="DEBUG",
        )
        self.assertEqual((out["status"], out["nextState"]), ("SUCCEEDED", "After"))
        self.assertEqual(json.loads(out["output"]), {"total": 15})
        self.assertEqual(json.loads(out["inspectionData"]["afterParameters"]), {"total": 15})
        self.assertEqual(
            json.loads(out["inspectionData"]["variables"]),
            {"base": 10, "note": "{% 1 + 1 %}", "last": 15, "label": "{% not an expression in JSONPath %}"},
        )
        # A JSONata state of a JSONata machine reads them too.
        machine = {
            "QueryLanguage": "JSONata", "StartAt": "S",
            "States": {"S": {"Type": "Pass", "Output": "{% $base * 2 %}", "End": True}},
        }
        out = self.c.test_state(definition=json.dumps(machine), variables='{"base": 21}')
        self.assertEqual((out["status"], out["output"]), ("SUCCEEDED", "42"))
        with self.assertRaises(self.c.exceptions.ValidationException):
            self.run_state(state, {}, variables='["not", "an", "object"]')
        with self.assertRaises(self.c.exceptions.ValidationException):
            self.run_state(state, {}, variables='{"1bad": 1}')

    def test_retry_count_and_error_details(self):
        retried = dict(
            TASK,
            Retry=[
                {"ErrorEquals": ["Other"], "MaxAttempts": 5},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 3, "BackoffRate": 2},
            ],
            Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Sorry"}],
        )
        error = {"errorOutput": {"error": "Out.Of.Stock", "cause": "none left"}}
        out = self.run_state(retried, {"order": {}}, mock=error, inspectionLevel="DEBUG",
                             stateConfiguration={"retrierRetryCount": 1})
        self.assertEqual(out["status"], "RETRIABLE")
        self.assertEqual(out["inspectionData"]["errorDetails"], {"retryIndex": 1, "retryBackoffIntervalSeconds": 6})
        # Retries used up: the catcher takes the error.
        out = self.run_state(retried, {"order": {}}, mock=error, inspectionLevel="DEBUG",
                             stateConfiguration={"retrierRetryCount": 2})
        self.assertEqual((out["status"], out["nextState"]), ("CAUGHT_ERROR", "Sorry"))
        self.assertEqual(out["inspectionData"]["errorDetails"], {"catchIndex": 0})

    def test_what_is_not_supported_is_refused_by_name(self):
        for extra, field in [
            ({"context": "{}"}, "context"),
            ({"stateConfiguration": {"mapIterationFailureCount": 1}}, "mapIterationFailureCount"),
        ]:
            with self.assertRaises(self.c.exceptions.ValidationException) as raised:
                self.run_state(TASK, {}, mock={"result": "{}"}, **extra)
            self.assertIn(field, str(raised.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
