-- At most `limit` requests a minute per client address, counted in the gateway's own Redis DB
-- (its index is allocated for the gateway alone: no app ever writes there).
local gateway = require "omnitron.gateway"

local M = {}

local function call(sock, ...)
  local args = { ... }
  local parts = { "*" .. #args }
  for _, arg in ipairs(args) do
    arg = tostring(arg)
    parts[#parts + 1] = "$" .. #arg
    parts[#parts + 1] = arg
  end
  local ok, err = sock:send(table.concat(parts, "\r\n") .. "\r\n")
  if not ok then
    return nil, err
  end
  return sock:receive("*l")
end

function M.check(limit)
  local redis = gateway.redis()
  if not redis then
    return -- no Redis for the gateway: no limit
  end
  local sock = ngx.socket.tcp()
  sock:settimeout(500)
  local ok, err = sock:connect(redis.host, redis.port)
  if not ok then
    ngx.log(ngx.WARN, "ratelimit: cannot reach Redis: ", err)
    return
  end
  if redis.password then
    call(sock, "AUTH", redis.password)
  end
  call(sock, "SELECT", redis.db)
  local key = "ratelimit:" .. ngx.var.remote_addr .. ":" .. math.floor(ngx.time() / 60)
  local reply = call(sock, "INCR", key)
  call(sock, "EXPIRE", key, 120)
  sock:setkeepalive(10000, 16)
  local count = tonumber((reply or ""):match("^:(%d+)")) or 0
  ngx.header["X-RateLimit-Remaining"] = math.max(0, limit - count)
  if count > limit then
    return ngx.exit(429)
  end
end

return M
