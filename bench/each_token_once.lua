-- wrk script: GET <path>?access_token=<token> for every line of $TOKENS_FILE, in order, once
-- (another parameter than access_token with TOKEN_PARAM, e.g. input_token for /debug_token);
-- the thread stops itself after the last one. Used to bring a server to its steady state
-- (every token seen once) before measuring. Run it with one thread.
local tokens, i, done, base = {}, 0, 0, nil
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  base = wrk.path .. ((wrk.path:find("?", 1, true)) and "&" or "?") .. (os.getenv("TOKEN_PARAM") or "access_token") .. "="
end
function request()
  i = i + 1
  return wrk.format("GET", base .. tokens[((i - 1) % #tokens) + 1])
end
function response(status, headers, body)
  done = done + 1
  if done >= #tokens then wrk.thread:stop() end
end
