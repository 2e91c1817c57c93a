"""State machine actions through boto3: create (idempotent), describe, list
with pages, update with revisions, versions, delete, validation with AWS's
diagnostic codes, tags."""

import json
import unittest

from botocore.exceptions import ClientError

from common import PASS, PASS2, PREFIX, ROLE, client, create, error_code


class StateMachines(unittest.TestCase):
    def setUp(self):
        self.c = client()

    def test_create_describe_update_delete(self):
        arn = create(self.c, "sm-life", loggingConfiguration={"level": "ALL", "includeExecutionData": True})
        self.assertEqual(arn, PREFIX + "stateMachine:sm-life")
        self.assertEqual(create(self.c, "sm-life", loggingConfiguration={"level": "ALL", "includeExecutionData": True}), arn, "same definition: idempotent")
        with self.assertRaises(ClientError) as e:
            create(self.c, "sm-life", PASS2)
        self.assertEqual(error_code(e.exception), "StateMachineAlreadyExists")
        d = self.c.describe_state_machine(stateMachineArn=arn)
        self.assertEqual((d["name"], d["type"], d["roleArn"], d["status"]), ("sm-life", "EXPRESS", ROLE, "ACTIVE"))
        self.assertEqual(d["definition"], PASS)
        self.assertEqual(d["loggingConfiguration"]["level"], "ALL")
        u = self.c.update_state_machine(stateMachineArn=arn, definition=PASS2, publish=True, versionDescription="two")
        self.assertEqual(u["stateMachineVersionArn"], arn + ":1")
        self.assertEqual(self.c.describe_state_machine(stateMachineArn=arn)["definition"], PASS2)
        v = self.c.describe_state_machine(stateMachineArn=arn + ":1")
        self.assertEqual((v["definition"], v["description"]), (PASS2, "two"))
        with self.assertRaises(ClientError) as e:
            self.c.update_state_machine(stateMachineArn=arn)
        self.assertEqual(error_code(e.exception), "MissingRequiredParameter")
        with self.assertRaises(ClientError) as e:
            self.c.update_state_machine(stateMachineArn=arn, definition='{"StartAt":"X","States":{}}')
        self.assertEqual(error_code(e.exception), "InvalidDefinition")
        self.assertEqual(self.c.describe_state_machine(stateMachineArn=arn)["definition"], PASS2, "a refused update changes nothing")
        self.c.delete_state_machine(stateMachineArn=arn)
        with self.assertRaises(ClientError) as e:
            self.c.describe_state_machine(stateMachineArn=arn)
        self.assertEqual(error_code(e.exception), "StateMachineDoesNotExist")

    def test_versions(self):
        arn = create(self.c, "sm-versions", publish=True)
        self.c.update_state_machine(stateMachineArn=arn, definition=PASS2)
        p = self.c.publish_state_machine_version(stateMachineArn=arn, description="second")
        self.assertEqual(p["stateMachineVersionArn"], arn + ":2")
        again = self.c.publish_state_machine_version(stateMachineArn=arn)
        self.assertEqual(again["stateMachineVersionArn"], arn + ":2", "publishing an unchanged revision is idempotent")
        with self.assertRaises(ClientError) as e:
            self.c.publish_state_machine_version(stateMachineArn=arn, revisionId="1")
        self.assertEqual(error_code(e.exception), "ConflictException")
        first = self.c.list_state_machine_versions(stateMachineArn=arn, maxResults=1)
        self.assertEqual([v["stateMachineVersionArn"] for v in first["stateMachineVersions"]], [arn + ":2"])
        rest = self.c.list_state_machine_versions(stateMachineArn=arn, nextToken=first["nextToken"])
        self.assertEqual([v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]], [arn + ":1"])
        self.assertNotIn("nextToken", rest)
        out = self.c.start_sync_execution(stateMachineArn=arn + ":1")
        self.assertEqual(json.loads(out["output"]), {"ok": 1}, "a version runs its own definition")
        out = self.c.start_sync_execution(stateMachineArn=arn)
        self.assertEqual(json.loads(out["output"]), {"ok": 2})

    def test_list_pages(self):
        for i in range(5):
            create(self.c, f"sm-page-{i}")
        names = []
        token = None
        while True:
            args = {"maxResults": 2}
            if token:
                args["nextToken"] = token
            page = self.c.list_state_machines(**args)
            self.assertLessEqual(len(page["stateMachines"]), 2)
            names += [m["name"] for m in page["stateMachines"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual([n for n in names if n.startswith("sm-page-")], [f"sm-page-{i}" for i in range(5)])
        self.assertEqual(len(names), len(set(names)))
        paginated = [m["name"] for p in self.c.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 3}) for m in p["stateMachines"]]
        self.assertEqual(paginated, names)

    def test_validate(self):
        ok = self.c.validate_state_machine_definition(definition=PASS, type="EXPRESS")
        self.assertEqual((ok["result"], ok["diagnostics"]), ("OK", []))
        bad = self.c.validate_state_machine_definition(
            definition='{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Gone"},"B":{"Type":"Wait"}}}'
        )
        self.assertEqual(bad["result"], "FAIL")
        codes = {(d["code"], d["location"]) for d in bad["diagnostics"]}
        self.assertIn(("MISSING_TRANSITION_TARGET", "/States/A/Next"), codes)
        self.assertTrue(any(c == "SCHEMA_VALIDATION_FAILED" for c, _ in codes), codes)
        self.assertTrue(all(d["severity"] == "ERROR" for d in bad["diagnostics"]))
        one = self.c.validate_state_machine_definition(definition=bad_definition(), maxResults=1)
        self.assertEqual((len(one["diagnostics"]), one["truncated"]), (1, True))
        j = self.c.validate_state_machine_definition(definition="{not json")
        self.assertEqual(j["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION")

    def test_tags(self):
        arn = create(self.c, "sm-tags", tags=[{"key": "team", "value": "a"}])
        self.c.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "b"}, {"key": "env", "value": "test"}])
        tags = self.c.list_tags_for_resource(resourceArn=arn)["tags"]
        self.assertEqual(sorted((t["key"], t["value"]) for t in tags), [("env", "test"), ("team", "b")])
        self.c.untag_resource(resourceArn=arn, tagKeys=["team"])
        self.assertEqual(self.c.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "env", "value": "test"}])
        with self.assertRaises(ClientError) as e:
            self.c.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": ""} for i in range(51)])
        self.assertEqual(error_code(e.exception), "TooManyTags")
        self.assertEqual(len(self.c.list_tags_for_resource(resourceArn=arn)["tags"]), 1, "a refused TagResource changes nothing")
        with self.assertRaises(ClientError) as e:
            self.c.list_tags_for_resource(resourceArn=PREFIX + "stateMachine:nobody")
        self.assertEqual(error_code(e.exception), "ResourceNotFound")


def bad_definition():
    return '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"X"},"B":{"Type":"Pass","Next":"Y"}}}'


if __name__ == "__main__":
    unittest.main(verbosity=2)
