"""A restart keeps state machines, versions, tags and activities: run with
`before` against a server with a data directory, kill it (-9), restart it
on the same directory and run with `after`."""

import json
import sys

from common import PASS, PASS2, PREFIX, client, create

c = client()
arn = PREFIX + "stateMachine:kept"
if sys.argv[1] == "before":
    create(c, "kept", tags=[{"key": "k", "value": "v"}], publish=True)
    c.update_state_machine(stateMachineArn=arn, definition=PASS2, publish=True)
    create(c, "dropped")
    c.delete_state_machine(stateMachineArn=PREFIX + "stateMachine:dropped")
    c.create_activity(name="kept-activity")
else:
    names = [m["name"] for m in c.list_state_machines()["stateMachines"]]
    assert names == ["kept"], names
    assert c.describe_state_machine(stateMachineArn=arn)["definition"] == PASS2
    assert c.describe_state_machine(stateMachineArn=arn + ":1")["definition"] == PASS
    versions = [v["stateMachineVersionArn"] for v in c.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]]
    assert versions == [arn + ":2", arn + ":1"], versions
    assert c.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]
    out = c.start_sync_execution(stateMachineArn=arn + ":1")
    assert json.loads(out["output"]) == {"ok": 1}, out
    assert [a["name"] for a in c.list_activities()["activities"]] == ["kept-activity"]
print("ok")
