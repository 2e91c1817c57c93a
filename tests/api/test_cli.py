"""The AWS CLI (from PyPI) against the server: create-state-machine,
start-sync-execution, validate-state-machine-definition and
list-state-machines, with AWS_DISABLE_HOST_PREFIX_INJECTION=true (see
common.py)."""

import json
import os
import subprocess
import sys
import unittest

from common import ENDPOINT, PASS, ROLE

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


def aws(*args):
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_DISABLE_HOST_PREFIX_INJECTION="true",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    done = subprocess.run(
        [AWS, "stepfunctions", "--endpoint-url", ENDPOINT, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


class Cli(unittest.TestCase):
    def test_cli_round_trip(self):
        code, out, err = aws(
            "create-state-machine", "--name", "cli-sm", "--definition", PASS,
            "--role-arn", ROLE, "--type", "EXPRESS",
        )
        self.assertEqual(code, 0, err)
        arn = json.loads(out)["stateMachineArn"]
        code, out, err = aws("start-sync-execution", "--state-machine-arn", arn, "--input", '{"a": 1}')
        self.assertEqual(code, 0, err)
        result = json.loads(out)
        self.assertEqual((result["status"], json.loads(result["output"])), ("SUCCEEDED", {"ok": 1}))
        code, out, err = aws("validate-state-machine-definition", "--definition", '{"StartAt": "X", "States": {}}')
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["result"], "FAIL")
        code, out, err = aws("list-state-machines")
        self.assertEqual(code, 0, err)
        self.assertIn("cli-sm", [m["name"] for m in json.loads(out)["stateMachines"]])
        code, out, err = aws("describe-state-machine", "--state-machine-arn", arn + "-absent")
        self.assertNotEqual(code, 0)
        self.assertIn("StateMachineDoesNotExist", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
