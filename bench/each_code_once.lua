-- wrk script: GET <url path>&code=<code> for the lines of $TOKENS_FILE, each line by one thread
-- only ($WRK_THREADS of them share the file), each once. A thread that runs out starts over,
-- and its codes, used already, are refused (counted as non-2xx): make more codes than a run
-- redeems.
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
local codes, i, base = {}, 0, nil
function init(args)
  local n, k = tonumber(os.getenv("WRK_THREADS") or "1"), 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if #line > 0 then
      if k % n == id then codes[#codes + 1] = line end
      k = k + 1
    end
  end
  base = wrk.path .. ((wrk.path:find("?", 1, true)) and "&" or "?") .. "code="
end
function request()
  if #codes == 0 then -- fewer codes than threads: this one has none
    wrk.thread:stop()
    return wrk.format("GET", base)
  end
  i = i + 1
  return wrk.format("GET", base .. codes[((i - 1) % #codes) + 1])
end
