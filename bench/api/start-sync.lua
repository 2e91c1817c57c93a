-- wrk script: StartSyncExecution of one state machine over keep-alive
-- connections (see bench/api/run.sh, which starts the server and sets the
-- environment). wrk counts answers other than 200 as "Non-2xx"; run.sh
-- checks once that an execution succeeds.
--   SPATE_ARN       the state machine's ARN
--   SPATE_INPUT     the execution input (JSON text)
--   SPATE_DELAY_MS  optional pause before each request of a connection,
--                   to measure latency below the saturation rate
--   SPATE_ACTION    another action on the same ARN instead (e.g.
--                   DescribeStateMachine: no execution, the HTTP ceiling)
local function quote(text)
  return '"' .. text:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n') .. '"'
end

local arn = assert(os.getenv("SPATE_ARN"), "SPATE_ARN is not set")
local input = os.getenv("SPATE_INPUT") or "{}"
local pause = tonumber(os.getenv("SPATE_DELAY_MS") or "0")

wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
local action = os.getenv("SPATE_ACTION") or "StartSyncExecution"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions." .. action
if action == "StartSyncExecution" then
  wrk.body = '{"stateMachineArn":' .. quote(arn) .. ',"input":' .. quote(input) .. '}'
else
  wrk.body = '{"stateMachineArn":' .. quote(arn) .. '}'
end

if pause > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
