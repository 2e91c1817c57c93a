"""The console's GraphQL API driven by `gql` (PyPI), over HTTP (requests)
and WebSocket (websockets, graphql-transport-ws).

    python test_graphql.py serve URL   # spate serve, no authentication
    python test_graphql.py auth URL    # spate serve with [api.auth] api_key
    python test_graphql.py demo URL    # the admin server of spate demo
"""

import asyncio
import json
import sys
import threading
import time
import urllib.request

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from gql.transport.websockets import WebsocketsTransport

URL = sys.argv[2]
WS = URL.replace("http://", "ws://") + "/graphql"


def client(key=None):
    headers = {"x-api-key": key} if key else {}
    transport = RequestsHTTPTransport(url=URL + "/graphql", headers=headers, timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=False)


def run(query, variables=None, key=None):
    return client(key).execute(gql(query), variable_values=variables)


def refused(query, variables=None, key=None):
    """The error codes of a refused operation."""
    try:
        run(query, variables, key)
    except TransportQueryError as e:
        return [err.get("extensions", {}).get("code") for err in e.errors], str(e)
    raise AssertionError(f"not refused: {query}")


def ws_transport(key=None):
    return WebsocketsTransport(
        url=WS,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"x-api-key": key} if key else {},
    )


async def collect(query, variables=None, limit=None, timeout=30, key=None, started=None):
    """Results of a subscription until it ends, `limit` arrive or `timeout`."""
    out = []
    async with Client(transport=ws_transport(key), fetch_schema_from_transport=False) as s:
        if started:
            started.set()

        async def read():
            async for result in s.subscribe(gql(query), variable_values=variables):
                out.append(result)
                if limit and len(out) >= limit:
                    return

        try:
            await asyncio.wait_for(read(), timeout)
        except asyncio.TimeoutError:
            pass
    return out


def in_thread(coroutine):
    """Runs a subscription on a thread of its own; returns (thread, box)."""
    box = {}
    ready = threading.Event()

    def body():
        box["result"] = asyncio.run(coroutine(ready))

    thread = threading.Thread(target=body)
    thread.start()
    assert ready.wait(15), "the subscription did not connect"
    time.sleep(0.3)  # subscribed once `subscribe` sent its message
    return thread, box


def aws(action, body, key=None):
    headers = {
        "x-amz-target": f"AWSStepFunctions.{action}",
        "content-type": "application/x-amz-json-1.0",
    }
    if key:
        headers["x-api-key"] = key
    request = urllib.request.Request(URL + "/", json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=70) as answer:
        return json.loads(answer.read() or b"{}")


ROLE = "arn:aws:iam::123456789012:role/console"
ROUTER = {
    "StartAt": "Count",
    "States": {
        "Count": {"Type": "Pass", "Next": "Size"},
        "Size": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 3, "Next": "Big"}],
            "Default": "Small",
        },
        "Big": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "n is 3 or less"},
    },
}
SLOW = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}

MACHINE = """query($name: String!) { stateMachine(name: $name) {
  name arn type definition createdAt diagnostics { code }
  versions { arn version }
  graph { startAt nodes { id name type start end } edges { from to kind label } } } }"""
START = """mutation($m: String!, $input: String) {
  startExecution(stateMachine: $m, input: $input) { id status source input historyRecorded } }"""
EXECUTION = """query($id: ID!) { execution(id: $id) {
  id status error cause input output durationMs historyRecorded
  history { id previousEventId type state node payload }
  states { node name status retries input output error } } }"""


def serve():
    aws("CreateStateMachine", {"name": "router", "definition": json.dumps(ROUTER),
                               "roleArn": ROLE, "type": "EXPRESS"})
    aws("CreateStateMachine", {"name": "slow", "definition": json.dumps(SLOW), "roleArn": ROLE})
    activity = aws("CreateActivity", {"name": "approve"})["activityArn"]
    worker = {"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": activity, "End": True}}}
    aws("CreateStateMachine", {"name": "worker", "definition": json.dumps(worker), "roleArn": ROLE})

    names = [m["name"] for m in run("{ stateMachines { name } }")["stateMachines"]]
    assert names == ["router", "slow", "worker"], names
    m = run(MACHINE, {"name": "router"})["stateMachine"]
    assert m["type"] == "EXPRESS" and m["diagnostics"] == [] and m["versions"] == [], m
    assert m["graph"]["startAt"] == "/States/Count", m
    edges = {(e["from"], e["to"]): e for e in m["graph"]["edges"]}
    assert edges[("/States/Size", "/States/Big")] == {
        "from": "/States/Size", "to": "/States/Big", "kind": "CHOICE", "label": "$.n > 3"}, edges
    assert edges[("/States/Size", "/States/Small")]["kind"] == "DEFAULT"
    assert run(MACHINE, {"name": "nothing"})["stateMachine"] is None

    bad = run("""query($d: String!) { validateDefinition(definition: $d) {
        code message severity location node } }""",
              {"d": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})})
    found = {d["location"]: d for d in bad["validateDefinition"]}
    assert found["/States/A/Next"]["node"] == "/States/A", found
    assert found["/States/A/Next"]["code"] == "MISSING_TRANSITION_TARGET"

    # Subscriptions: status changes (filtered), then one execution's events.
    status_sub = """subscription { executionStatusChanged(stateMachine: "router", status: SUCCEEDED) {
        id status stateMachine durationMs } }"""
    changes, changes_box = in_thread(lambda ready: collect(status_sub, limit=1, started=ready))
    started = run(START, {"m": "router", "input": json.dumps({"n": 5})})["startExecution"]
    assert started["status"] == "RUNNING" and started["source"] == "CONSOLE", started
    assert started["historyRecorded"] is True and json.loads(started["input"]) == {"n": 5}
    events = asyncio.run(collect(
        "subscription($id: ID!) { executionEvents(id: $id) { id type state node } }",
        {"id": started["id"]}))
    types = [e["executionEvents"]["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", types
    assert "WaitStateEntered" in types, types
    ids = [e["executionEvents"]["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    changes.join(30)
    [change] = [c["executionStatusChanged"] for c in changes_box["result"]]
    assert change["id"] == started["id"] and change["status"] == "SUCCEEDED", change
    assert change["durationMs"] >= 1000, change

    done = run(EXECUTION, {"id": started["id"]})["execution"]
    assert done["status"] == "SUCCEEDED" and done["historyRecorded"], done
    path = [(s["name"], s["status"]) for s in done["states"]]
    assert path == [("Count", "SUCCEEDED"), ("Size", "SUCCEEDED"), ("Big", "SUCCEEDED"),
                    ("Done", "SUCCEEDED")], path
    assert done["states"][2]["node"] == "/States/Big"

    failed = run("""mutation { startSyncExecution(stateMachine: "router", input: "{\\"n\\": 1}") {
        id status error cause states { name status } } }""")["startSyncExecution"]
    assert failed["status"] == "FAILED" and failed["error"] == "TooSmall", failed
    assert failed["states"][-1] == {"name": "Small", "status": "FAILED"}, failed

    for n in range(3):
        run("mutation { startSyncExecution(stateMachine: \"router\", input: \"{\\\"n\\\": 0}\") { id } }")
    page = """query($f: ExecutionFilter, $after: String) {
      executions(filter: $f, first: 2, after: $after) {
        edges { cursor node { id name status source error } } pageInfo { hasNextPage endCursor } } }"""
    f = {"stateMachine": "router", "status": "FAILED"}
    first = run(page, {"f": f})["executions"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"], first
    second = run(page, {"f": f, "after": first["pageInfo"]["endCursor"]})["executions"]
    assert len(second["edges"]) == 2 and not second["pageInfo"]["hasNextPage"], second
    seen = [e["node"]["id"] for e in first["edges"] + second["edges"]]
    assert len(set(seen)) == 4 and failed["id"] in seen, seen
    assert all(e["node"]["error"] == "TooSmall" for e in first["edges"] + second["edges"])
    by_error = run(page, {"f": {"error": "NoSuchError"}})["executions"]["edges"]
    assert by_error == [], by_error
    future = run(page, {"f": {"startedAfter": "2200-01-01T00:00:00.000Z"}})["executions"]["edges"]
    assert future == []
    _, why = refused(page, {"f": {"startedBefore": "yesterday"}})
    assert "filter.startedBefore" in why, why

    slow = run(START, {"m": "slow"})["startExecution"]
    stopped = run("""mutation($id: ID!) { stopExecution(id: $id, error: "Halt", cause: "by hand") {
        status error cause } }""", {"id": slow["id"]})["stopExecution"]
    assert stopped == {"status": "ABORTED", "error": "Halt", "cause": "by hand"}, stopped

    asked = run(START, {"m": "worker", "input": json.dumps({"order": 7})})["startExecution"]
    task = aws("GetActivityTask", {"activityArn": activity})
    assert json.loads(task["input"]) == {"order": 7}, task
    assert run("""mutation($t: String!) { sendTaskSuccess(token: $t, output: "{\\"ok\\": true}") }""",
               {"t": task["taskToken"]})["sendTaskSuccess"] is True
    for _ in range(50):
        answered = run(EXECUTION, {"id": asked["id"]})["execution"]
        if answered["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert answered["status"] == "SUCCEEDED" and json.loads(answered["output"]) == {"ok": True}
    codes, _ = refused("""mutation { sendTaskFailure(token: "made-up", error: "E") }""")
    assert codes == ["InvalidToken"], codes

    result = run("""query($d: String!) { testState(input: {definition: $d, input: "{\\"a\\": 1}"}) {
        status output nextState } }""",
                 {"d": json.dumps({"Type": "Pass", "Result": {"b": 2}, "ResultPath": "$.r", "Next": "X"})})
    tested = result["testState"]
    assert tested["status"] == "SUCCEEDED" and tested["nextState"] == "X", result
    assert json.loads(tested["output"]) == {"a": 1, "r": {"b": 2}}, result

    ticks = asyncio.run(collect(
        "subscription { metricsTick(stateMachine: \"router\") { at stateMachine started succeeded failed p50 } }",
        limit=2, timeout=10))
    assert len(ticks) == 2, ticks
    assert ticks[0]["metricsTick"]["stateMachine"] == "router", ticks
    latest = run("{ metrics { at stateMachine started } pipelines { name } }")
    assert latest["metrics"]["stateMachine"] is None and latest["pipelines"] == [], latest

    deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }"
    _, why = refused(deep)
    assert "nested too deep" in why, why
    print("ok")


def auth():
    keys = {"read": "read-key-0123456789", "start": "start-key-0123456789",
            "admin": "admin-key-0123456789"}
    aws("CreateStateMachine", {"name": "router", "definition": json.dumps(ROUTER), "roleArn": ROLE},
        key=keys["admin"])
    codes, _ = refused("{ stateMachines { name } }")
    assert codes == ["UNAUTHENTICATED"], codes
    codes, _ = refused("{ stateMachines { name } }", key="wrong-key-0123456789")
    assert codes == ["UNAUTHENTICATED"], codes
    assert run("{ stateMachines { name } }", key=keys["read"])["stateMachines"] == [{"name": "router"}]
    codes, why = refused(START, {"m": "router", "input": "{}"}, key=keys["read"])
    assert codes == ["FORBIDDEN"] and "start" in why, why
    started = run(START, {"m": "router", "input": json.dumps({"n": 9})}, key=keys["start"])
    arn = started["startExecution"]["id"]
    # Subscriptions carry the key in connection_init; without one, refused.
    events = asyncio.run(collect("subscription($id: ID!) { executionEvents(id: $id) { type } }",
                                 {"id": arn}, key=keys["read"]))
    assert events[-1]["executionEvents"]["type"] == "ExecutionSucceeded", events
    for key in [None, "wrong-key-0123456789"]:
        try:
            asyncio.run(collect("subscription { metricsTick { at } }", limit=1, timeout=10, key=key))
        except Exception as e:  # the server closes the socket at connection_init
            reasons = []
            while e is not None:
                rcvd = getattr(e, "rcvd", None)
                reasons.append(getattr(rcvd, "reason", "") or str(e))
                e = e.__cause__ or e.__context__
            assert any(r.startswith("UNAUTHENTICATED") for r in reasons), reasons
        else:
            raise AssertionError(f"a subscription with key {key} was accepted")
    print("ok")


def demo():
    names = [m["name"] for m in run("{ stateMachines { name } }")["stateMachines"]]
    assert "iot-enrich" in names, names
    assert run("{ pipelines { name topics stateMachine } }")["pipelines"] == [
        {"name": "iot", "topics": ["iot-events"], "stateMachine": "iot-enrich"}]
    query = """query($f: ExecutionFilter) { executions(filter: $f, first: 200) {
        edges { node { id status source key durationMs } } } }"""
    deadline = time.time() + 60
    while time.time() < deadline:
        edges = run(query, {"f": {"stateMachine": "iot-enrich"}})["executions"]["edges"]
        if len(edges) >= 20:
            break
        time.sleep(0.5)
    nodes = [e["node"] for e in edges]
    assert len(nodes) >= 20, nodes
    assert all(n["source"] == "PIPELINE" and n["key"] for n in nodes), nodes[:3]
    key = nodes[0]["key"]
    keyed = run(query, {"f": {"key": key}})["executions"]["edges"]
    assert keyed and all(e["node"]["key"] == key for e in keyed), keyed
    # A sampled share carries its history.
    deadline = time.time() + 60
    recorded = None
    while recorded is None and time.time() < deadline:
        for n in run(query, {"f": {"stateMachine": "iot-enrich"}})["executions"]["edges"]:
            e = run(EXECUTION, {"id": n["node"]["id"]})["execution"]
            if e and e["historyRecorded"]:
                recorded = e
                break
        time.sleep(0.5)
    assert recorded is not None, "no sampled execution"
    assert recorded["states"] and recorded["input"] and recorded["history"], recorded
    assert recorded["history"][0]["type"] == "ExecutionStarted", recorded
    ticks = asyncio.run(collect("subscription { metricsTick { started pipelines { name eventsPerSecond } } }",
                                limit=3, timeout=15))
    assert any(t["metricsTick"]["pipelines"][0]["eventsPerSecond"] > 0 for t in ticks), ticks
    assert any(t["metricsTick"]["started"] > 0 for t in ticks), ticks
    # Without [api], the console still starts executions.
    with open("config/workflows/iot-enrich.input.json") as f:
        event = f.read()
    ran = run("""mutation($input: String!) { startSyncExecution(stateMachine: "iot-enrich", input: $input) {
        status source output historyRecorded } }""", {"input": event})["startSyncExecution"]
    assert ran["status"] == "SUCCEEDED" and ran["source"] == "CONSOLE", ran
    assert json.loads(ran["output"])["key"] == "plant-7/dev-0042", ran
    print("ok")


{"serve": serve, "auth": auth, "demo": demo}[sys.argv[1]]()
