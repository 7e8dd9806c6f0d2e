-- wrk script: POST task creations with the bearer TOKEN; every 10th has a
-- reminder due 2 s after the request (whole seconds: wrk's Lua has os.time).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local n = 0
request = function()
    n = n + 1
    local body
    if n % 10 == 0 then
        local at = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 2)
        body = '{"title":"burst task","due_at":"2099-12-01T09:00:00Z","remind_at":"' .. at .. '"}'
    else
        body = '{"title":"burst task","tags":["burst"],"due_at":"2026-12-01T09:00:00Z"}'
    end
    return wrk.format(nil, nil, nil, body)
end
