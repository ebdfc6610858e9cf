-- wrk script: GET <url path>?access_token=<token>, the token read from a random line of
-- $TOKENS_FILE at every request. The lines must all be one length (the file that
-- `graphtoken bench populate` writes), and the file is never loaded whole, so it may hold ten
-- million tokens. Each request costs wrk a seek and a read; compare only runs made with this
-- script.
local f, width, lines, base
function init(args)
  f = assert(io.open(os.getenv("TOKENS_FILE"), "r"))
  width = #assert(f:read("*l")) + 1
  lines = math.floor(f:seek("end") / width)
  base = wrk.path .. ((wrk.path:find("?", 1, true)) and "&" or "?") .. "access_token="
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 1000)
end
function request()
  f:seek("set", (math.random(lines) - 1) * width)
  return wrk.format("GET", base .. f:read(width - 1))
end
