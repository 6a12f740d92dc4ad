-- wrk script: POST a JSON body and count answers by status.
-- Arguments after "--": expected status, JSON body, then optional "Name: value" headers.
-- The summary is one line "BENCH_JSON {...}" that bench/load.py reads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected_status = tonumber(args[1])
  wrk.method = "POST"
  wrk.body = args[2]
  wrk.headers["Content-Type"] = "application/json"
  for i = 3, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
  expected = 0
  unexpected = 0
end

function response(status, headers, body)
  if status == expected_status then
    expected = expected + 1
  else
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("expected")
    bad = bad + thread:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d, "status": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"expected": %d, "unexpected": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max, ok, bad))
end
