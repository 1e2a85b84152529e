-- wrk script: POST /oauth2/introspect as the homeserver does (Bearer <matrix.secret>), with the
-- token in $TOKEN and the secret in $HS_SECRET. Counts answers that are not `"active":true`.
wrk.method = "POST"
wrk.body = "token=" .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("HS_SECRET")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_active = 0
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"active":true', 1, true) then
    not_active = not_active + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_active")
  end
  io.write(string.format("answers not active: %d\n", total))
end
