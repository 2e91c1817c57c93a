"""Activities through boto3: create, describe, list, delete, tags, and
workers: a long-polling worker with heartbeats, one whose heartbeat lapses
(States.HeartbeatTimeout), TimeoutSeconds, and several workers polling at
once, each task going to exactly one of them."""

import json
import threading
import time
import unittest

from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

import boto3
from common import ENDPOINT, PREFIX, client, create, definition, error_code, poll


def activity_machine(c, name, activity_arn, heartbeat=None, timeout=None):
    task = {"Type": "Task", "Resource": activity_arn, "End": True}
    if heartbeat:
        task["HeartbeatSeconds"] = heartbeat
    if timeout:
        task["TimeoutSeconds"] = timeout
    return create(c, name, definition({"Work": task}, "Work"))


def done(c, arn):
    return poll(lambda: c.describe_execution(executionArn=arn), lambda d: d["status"] != "RUNNING", 30)


def impatient_client():
    """A worker's client that gives up a poll after 3 s (the server holds
    one for up to 60 s)."""
    return boto3.client(
        "stepfunctions", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
        config=Config(read_timeout=3, retries={"max_attempts": 1}),
    )


class Activities(unittest.TestCase):
    def setUp(self):
        self.c = client()

    def test_activity_resources(self):
        arn = self.c.create_activity(name="act-res", tags=[{"key": "a", "value": "1"}])["activityArn"]
        self.assertEqual(arn, PREFIX + "activity:act-res")
        self.assertEqual(self.c.create_activity(name="act-res")["activityArn"], arn, "idempotent")
        self.assertEqual(self.c.describe_activity(activityArn=arn)["name"], "act-res")
        self.c.create_activity(name="act-res-2")
        page = self.c.list_activities(maxResults=1)
        self.assertEqual(len(page["activities"]), 1)
        rest = self.c.list_activities(nextToken=page["nextToken"])
        names = [a["name"] for a in page["activities"] + rest["activities"]]
        self.assertEqual([n for n in names if n.startswith("act-res")], ["act-res", "act-res-2"])
        self.c.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
        self.assertEqual(len(self.c.list_tags_for_resource(resourceArn=arn)["tags"]), 2)
        self.c.delete_activity(activityArn=arn)
        with self.assertRaises(ClientError) as e:
            self.c.describe_activity(activityArn=arn)
        self.assertEqual(error_code(e.exception), "ActivityDoesNotExist")
        with self.assertRaises(ClientError) as e:
            self.c.get_activity_task(activityArn=arn)
        self.assertEqual(error_code(e.exception), "ActivityDoesNotExist")

    def test_worker_with_heartbeats(self):
        activity = self.c.create_activity(name="act-beat")["activityArn"]
        machine = activity_machine(self.c, "act-beat-sm", activity, heartbeat=2, timeout=60)
        got = []

        def worker():
            c = client()
            task = c.get_activity_task(activityArn=activity, workerName="w1")  # long-polls
            got.append(task["input"])
            for _ in range(8):  # 4 s of work: twice the heartbeat interval
                time.sleep(0.5)
                c.send_task_heartbeat(taskToken=task["taskToken"])
            c.send_task_success(taskToken=task["taskToken"], output='{"done": true}')

        thread = threading.Thread(target=worker)
        thread.start()
        time.sleep(0.5)  # the worker polls before there is a task
        execution = self.c.start_execution(stateMachineArn=machine, input='{"job": 1}')["executionArn"]
        thread.join(30)
        self.assertEqual([json.loads(i) for i in got], [{"job": 1}])
        d = done(self.c, execution)
        self.assertEqual((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"done": True}))

    def test_heartbeat_lapses_and_timeout(self):
        activity = self.c.create_activity(name="act-lapse")["activityArn"]
        machine = activity_machine(self.c, "act-lapse-sm", activity, heartbeat=1, timeout=60)
        execution = self.c.start_execution(stateMachineArn=machine)["executionArn"]
        task = self.c.get_activity_task(activityArn=activity)
        d = done(self.c, execution)
        self.assertEqual((d["status"], d["error"]), ("FAILED", "States.HeartbeatTimeout"))
        with self.assertRaises(ClientError) as e:
            self.c.send_task_success(taskToken=task["taskToken"], output="{}")
        self.assertEqual(error_code(e.exception), "TaskTimedOut")
        bounded = activity_machine(self.c, "act-timeout-sm", activity, timeout=1)
        execution = self.c.start_execution(stateMachineArn=bounded)["executionArn"]
        d = done(self.c, execution)
        self.assertEqual((d["status"], d["error"]), ("FAILED", "States.Timeout"))

    def test_each_task_goes_to_exactly_one_worker(self):
        activity = self.c.create_activity(name="act-many")["activityArn"]
        machine = activity_machine(self.c, "act-many-sm", activity, timeout=60)
        executions = [
            self.c.start_execution(stateMachineArn=machine, input=json.dumps({"n": n}))["executionArn"]
            for n in range(6)
        ]
        tokens = []
        lock = threading.Lock()

        def worker(name):
            c = impatient_client()
            while True:
                try:
                    task = c.get_activity_task(activityArn=activity, workerName=name)
                except ReadTimeoutError:
                    return
                if "taskToken" not in task:
                    return
                with lock:
                    tokens.append(task["taskToken"])
                n = json.loads(task["input"])["n"]
                c.send_task_success(taskToken=task["taskToken"], output=json.dumps({"n": n, "by": name}))

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(tokens), 6)
        self.assertEqual(len(set(tokens)), 6, "no task went to two workers")
        for n, arn in enumerate(executions):
            d = done(self.c, arn)
            self.assertEqual((d["status"], json.loads(d["output"])["n"]), ("SUCCEEDED", n))


if __name__ == "__main__":
    unittest.main(verbosity=2)
