-- wrk script: GET <url path>&<PARAM>=<random token from $TOKENS_FILE>, PARAM from $TOKEN_PARAM
-- (default input_token): for debug_token, whose caller's token is fixed in the URL and whose
-- inspected token changes with every request.
local tokens = {}
local base
function init(args)
  local f = assert(io.open(os.getenv("TOKENS_FILE"), "r"))
  for line in f:lines() do if #line > 0 then tokens[#tokens + 1] = line end end
  f:close()
  local param = os.getenv("TOKEN_PARAM") or "input_token"
  base = wrk.path .. ((wrk.path:find("?", 1, true)) and "&" or "?") .. param .. "="
  math.randomseed(os.time() + (tonumber(tostring(tokens):match("0x(%x+)"), 16) or 0) % 1000)
end
function request()
  return wrk.format("GET", base .. tokens[math.random(#tokens)])
end
