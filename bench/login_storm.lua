-- wrk script: POST /_matrix/client/v3/login with m.login.password for $LOGIN_USER and
-- $LOGIN_PASSWORD, each connection again as soon as it has its answer. Counts the answers:
-- 200 (signed in), 503 (refused: hashing saturated), 429 (rate limited) and any other.
wrk.method = "POST"
wrk.body = string.format(
  '{"type":"m.login.password","identifier":{"type":"m.id.user","user":"%s"},"password":"%s"}',
  os.getenv("LOGIN_USER"), os.getenv("LOGIN_PASSWORD"))
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  signed_in, busy, limited, other = 0, 0, 0, 0
end

function response(status, headers, body)
  if status == 200 then
    signed_in = signed_in + 1
  elseif status == 503 then
    busy = busy + 1
  elseif status == 429 then
    limited = limited + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = {signed_in = 0, busy = 0, limited = 0, other = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  io.write(string.format("logins: signed_in=%d refused_503=%d limited_429=%d other=%d\n",
    totals.signed_in, totals.busy, totals.limited, totals.other))
end
