-- wrk script: opens the login dialog (wrk's URL) as a signed-in person ($COOKIE) and writes the
-- code of every redirect it answers with to $CODES_DIR/codes_<thread>.txt, one per line (added
-- to what the file holds: bench/codes.sh may run it more than once for a round).
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
local out
function init(args)
  out = assert(io.open(os.getenv("CODES_DIR") .. "/codes_" .. id .. ".txt", "a"))
  out:setvbuf("line")
  wrk.headers["Cookie"] = os.getenv("COOKIE")
end
function response(status, headers, body)
  local code = (headers["Location"] or headers["location"] or ""):match("[?&]code=([^&#]+)")
  if code then out:write(code, "\n") end
end
