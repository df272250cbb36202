package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each runs atomically on the node that serves the slot of
// its first key. Every key a script declares or builds begins with one
// route's prefix ("PREFIX{ROUTE}:"), so every key it touches is in that one
// slot, except in the signing-key scripts, whose two keys share the hash
// tag {keys} instead; the scripts build some names (a session found through a token, the
// sessions of a user, the one-time tokens of a purpose index) from that
// prefix, which Redis Cluster allows because they hash to the slot of the
// declared keys. The Lua code calls a session by its older name (fid,
// delete_family), as the key layout does.
//
// Times are decimal microseconds since the Unix epoch, and expiry instants
// decimal milliseconds. A Lua number holds them exactly (they are below
// 2^53), but Lua's tostring would round them, so scripts store the strings
// they were given, compare with tonumber, and format computed numbers with
// string.format('%d'). Scripts return arrays of strings and integers only,
// with "" for an absent value, so that replies read the same under RESP2 and
// RESP3.

// luaPrelude holds the helpers that several scripts share.
const luaPrelude = `
-- extend makes key live until at least the instant at (ms).
local function extend(key, at)
  local t = redis.call('PEXPIRETIME', key)
  if t == -1 or (t >= 0 and t < tonumber(at)) then
    redis.call('PEXPIREAT', key, at)
  end
end

-- lower records score (us) as the route's purge bound when it is lower than
-- the bound recorded so far, or when none is; it returns score when it did,
-- and "" otherwise. The bound lives as long as the due index.
local function lower(due, bound, score)
  local b = redis.call('GET', bound)
  if b and tonumber(b) <= tonumber(score) then
    return ''
  end
  local t = redis.call('PEXPIRETIME', due)
  if t > 0 then
    redis.call('SET', bound, score, 'PXAT', t)
  else
    redis.call('SET', bound, score)
  end
  return score
end

-- due_at adds member to the due index at score (us), keeping the index at
-- least as long as key.
local function due_at(due, member, score, key)
  redis.call('ZADD', due, score, member)
  local t = redis.call('PEXPIRETIME', key)
  if t > 0 then extend(due, t) end
end

-- delete_family deletes the family id of the route with prefix pre, with
-- all its tokens and their index entries. A family has at most 42 fields
-- since chains are bounded; one stored before then may have any number,
-- and loses only about 256 of them per call: it becomes a tombstone at
-- once (no user id, so no lookup, rotation or listing finds it, and out of
-- the session list) that stays due at 0, so that each later purge of the
-- route deletes another part of it.
local function delete_family(pre, due, fams, id)
  local fk = pre .. 'f:' .. id
  if redis.call('HLEN', fk) > 256 then
    redis.call('HDEL', fk, 'u')
    redis.call('ZREM', fams, id)
    local page = redis.call('HSCAN', fk, 0, 'COUNT', 256)[2]
    for i = 1, #page, 2 do
      local k = page[i]
      if string.sub(k, 1, 2) == 't:' then
        redis.call('DEL', pre .. k)
        redis.call('ZREM', due, k .. id)
      end
      redis.call('HDEL', fk, k)
    end
    redis.call('ZADD', due, 0, 'f:' .. id)
    return
  end
  for _, k in ipairs(redis.call('HKEYS', fk)) do
    if string.sub(k, 1, 2) == 't:' then
      redis.call('DEL', pre .. k)
      redis.call('ZREM', due, k .. id)
    end
  end
  redis.call('DEL', fk)
  redis.call('ZREM', due, 'f:' .. id)
  redis.call('ZREM', fams, id)
end
`

// createScript stores a session and its first token, making room first
// when the user is at the cap. Making room looks at no more than 64
// entries of the due index and 64 sessions, and deletes sessions of at
// most 17 tokens each (see delete_family for older ones), whatever the cap
// and however many sessions the user has. It returns {code, bound}: code 0 when
// stored, 1 when the session id exists, 2 when the token exists; bound as
// lower returns it.
//
// KEYS: session, token, fams, due, bound.
// ARGV: route prefix, session id, user id, created, expires, refreshed,
// revoked or "", user agent, address, token id, token record, token
// expires, session expiry (ms), token expiry (ms), max sessions, session
// due (us), index expiry (ms).
var createScript = redis.NewScript(luaPrelude + `
local pre, fid, uid = ARGV[1], ARGV[2], ARGV[3]
local evict_scan = 64
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, ''} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {2, ''} end

local max = tonumber(ARGV[15])
if redis.call('ZCARD', KEYS[3]) >= max then
  -- Make room in bounded steps: first the route's revoked and expired
  -- sessions among the first evict_scan entries of the due index that are
  -- due (revoked ones score 0, expired ones their ExpiresAt), then the
  -- user's oldest sessions, by CreatedAt, among the route's evict_scan
  -- oldest; a session whose hash Redis has expired goes too.
  for _, m in ipairs(redis.call('ZRANGE', KEYS[4], '-inf', ARGV[4], 'BYSCORE', 'LIMIT', 0, evict_scan)) do
    if redis.call('ZCARD', KEYS[3]) < max then break end
    if string.sub(m, 1, 2) == 'f:' then
      delete_family(pre, KEYS[4], KEYS[3], string.sub(m, 3))
    end
  end
  if redis.call('ZCARD', KEYS[3]) >= max then
    for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, evict_scan - 1)) do
      if redis.call('ZCARD', KEYS[3]) < max then break end
      local u = redis.call('HGET', pre .. 'f:' .. id, 'u')
      if not u or u == uid then
        delete_family(pre, KEYS[4], KEYS[3], id)
      end
    end
  end
end

local fam = {'u', uid, 'c', ARGV[4], 'e', ARGV[5], 'r', ARGV[6], 'a', ARGV[8], 'd', ARGV[9], 't:' .. ARGV[10], ARGV[11],
  'n', '0', 's:0', ARGV[10]}
if ARGV[7] ~= '' then
  fam[#fam + 1] = 'v'
  fam[#fam + 1] = ARGV[7]
end
redis.call('HSET', KEYS[1], unpack(fam))
redis.call('PEXPIREAT', KEYS[1], ARGV[13])
redis.call('SET', KEYS[2], fid, 'PXAT', ARGV[14])

redis.call('ZADD', KEYS[3], ARGV[4], fid)
extend(KEYS[3], ARGV[13])
redis.call('ZADD', KEYS[4], ARGV[16], 'f:' .. fid, ARGV[12], 't:' .. ARGV[10] .. fid)
extend(KEYS[4], ARGV[17])
local m = ARGV[16]
if tonumber(ARGV[12]) < tonumber(m) then m = ARGV[12] end
return {0, lower(KEYS[4], KEYS[5], m)}
`)

// lookupScript returns a token's session id, the token's record and its
// session: {session id, record, user id, created, expires, refreshed,
// revoked, user agent, address}, absent values as "", or {} when the token
// or its session is missing.
//
// KEYS: token. ARGV: route prefix, token field.
var lookupScript = redis.NewScript(`
local fid = redis.call('GET', KEYS[1])
if not fid then return {} end
local f = redis.call('HMGET', ARGV[1] .. 'f:' .. fid, ARGV[2], 'u', 'c', 'e', 'r', 'v', 'a', 'd')
if not f[1] or not f[2] then return {} end
return {fid, f[1], f[2], f[3], f[4], f[5], f[6] or '', f[7] or '', f[8] or ''}
`)

// rotateScript is the compare-and-swap of a rotation. It returns {code,
// bound}: code 1 when swapped, 0 when a check failed, 2 when next belongs to
// another session or user than old, 3 when next exists; bound as lower
// returns it.
//
// In the common case, next expires after old and with its session, so old's
// entry in the due index already bounds next's, and the index lives long
// enough: the script then leaves the index's lifetime and the route's bound
// alone.
//
// The session's field n counts the tokens stored in it, and s:N names its
// Nth token (the first is 0): after the swap, the script deletes the token
// that is now keptTokens places behind the newest, with its key and index
// entry, so a session keeps its newest keptTokens tokens and no more. A
// session stored before the counter existed starts counting at its first
// rotation; its earlier tokens stay until they expire.
//
// KEYS: old, session of next, next, expect (old again when expect is zero),
// due, bound.
// ARGV: old field, expect field or "", next id, session id, user id, issued,
// expires, next expiry (ms), route prefix, kept tokens.
var rotateScript = redis.NewScript(luaPrelude + `
local fid = redis.call('GET', KEYS[1])
if not fid then return {0, ''} end
local f = redis.call('HMGET', KEYS[2], 'u', 'v', 'e', ARGV[1], ARGV[2])
if fid ~= ARGV[4] or (f[1] and f[1] ~= ARGV[5]) then return {2, ''} end
if not f[1] or f[2] or not f[4] then return {0, ''} end
local oi, oe, ox, os = string.match(f[4], '^([^,]*),([^,]*),([^,]*),([^,]*)$')
if os ~= string.sub(ARGV[2], 3) then return {0, ''} end
local ei, ee
if ARGV[2] == '' then
  if ox ~= '' then return {0, ''} end
else
  if not f[5] or redis.call('EXISTS', KEYS[4]) == 0 then return {0, ''} end
  local ex
  ei, ee, ex = string.match(f[5], '^([^,]*),([^,]*),([^,]*),')
  if ex ~= '' then return {0, ''} end
end
if not redis.call('SET', KEYS[3], fid, 'NX', 'PXAT', ARGV[8]) then return {3, ''} end

if ox == '' then ox = ARGV[6] end
local rec = {'r', ARGV[6], ARGV[1], oi .. ',' .. oe .. ',' .. ox .. ',' .. ARGV[3],
  't:' .. ARGV[3], ARGV[6] .. ',' .. ARGV[7] .. ',,'}
if ARGV[2] ~= '' then
  rec[#rec + 1] = ARGV[2]
  rec[#rec + 1] = ei .. ',' .. ee .. ',' .. ARGV[6] .. ','
end
redis.call('HSET', KEYS[2], unpack(rec))
redis.call('ZADD', KEYS[5], ARGV[7], 't:' .. ARGV[3] .. fid)
local seq = redis.call('HINCRBY', KEYS[2], 'n', 1)
redis.call('HSET', KEYS[2], 's:' .. seq, ARGV[3])
local drop = 's:' .. string.format('%d', seq - tonumber(ARGV[10]))
local gone = redis.call('HGET', KEYS[2], drop)
if gone then
  redis.call('HDEL', KEYS[2], drop, 't:' .. gone)
  redis.call('DEL', ARGV[9] .. 't:' .. gone)
  redis.call('ZREM', KEYS[5], 't:' .. gone .. fid)
end
local exp = tonumber(ARGV[7])
if exp > tonumber(f[3]) then extend(KEYS[5], ARGV[8]) end
if exp >= tonumber(oe) then return {1, ''} end
return {1, lower(KEYS[5], KEYS[6], ARGV[7])}
`)

// revokeSessionScript marks a session of a user revoked unless it is
// already.
// It returns {found (0 or 1), bound}.
//
// KEYS: session, due, bound. ARGV: session id, user id, at.
var revokeSessionScript = redis.NewScript(luaPrelude + `
local f = redis.call('HMGET', KEYS[1], 'u', 'v')
if f[1] ~= ARGV[2] then return {0, ''} end
if f[2] then return {1, ''} end
redis.call('HSET', KEYS[1], 'v', ARGV[3])
due_at(KEYS[2], 'f:' .. ARGV[1], 0, KEYS[1])
return {1, lower(KEYS[2], KEYS[3], '0')}
`)

// revokeUserScript marks the sessions of a user among the ids it is given
// that are live at the time at revoked at at, and forgets the ids of
// sessions that are gone. It returns {count, bound}. RevokeUser runs it on
// one batch of the user's sessions at a time.
//
// KEYS: fams, due, bound. ARGV: route prefix, user id, at, session ids.
var revokeUserScript = redis.NewScript(luaPrelude + `
local pre, uid, at = ARGV[1], ARGV[2], tonumber(ARGV[3])
local n = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local fk = pre .. 'f:' .. id
  local f = redis.call('HMGET', fk, 'u', 'e', 'v')
  if not f[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif f[1] == uid and not f[3] and at < tonumber(f[2]) then
    redis.call('HSET', fk, 'v', ARGV[3])
    due_at(KEYS[2], 'f:' .. id, 0, fk)
    n = n + 1
  end
end
if n == 0 then return {0, ''} end
return {n, lower(KEYS[2], KEYS[3], '0')}
`)

// sessionsScript returns the sessions of a user that are live at now, as
// groups of six values: id, created, expires, refreshed, user agent,
// address. It forgets index entries of sessions that Redis has expired.
//
// KEYS: fams. ARGV: route prefix, user id, now.
var sessionsScript = redis.NewScript(`
local pre, uid, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local f = redis.call('HMGET', pre .. 'f:' .. id, 'u', 'c', 'e', 'r', 'v', 'a', 'd')
  if not f[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif f[1] == uid and not f[5] and now < tonumber(f[3]) then
    out[#out + 1] = id
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
    out[#out + 1] = f[4]
    out[#out + 1] = f[6] or ''
    out[#out + 1] = f[7] or ''
  end
end
return out
`)

// purgeRouteScript deletes up to budget items of one route that are due at
// now: a session that is revoked or expired, with all its tokens, counts
// one, and so does an expired token of a session that stays, or the index
// entry of a record that Redis has already expired. It then records the
// earliest due time left as the route's bound and returns {count, bound},
// bound "" when the route has nothing left to purge.
//
// KEYS: due, bound, fams. ARGV: route prefix, now, budget.
var purgeRouteScript = redis.NewScript(luaPrelude + `
local pre, now, budget = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local n = 0
while n < budget do
  local e = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, 1)
  local m = e[1]
  if not m then break end
  if string.sub(m, 1, 2) == 'f:' then
    delete_family(pre, KEYS[1], KEYS[3], string.sub(m, 3))
  else
    -- t:TOKEN followed by the family id; TOKEN has 43 characters.
    local field, fid = string.sub(m, 1, 45), string.sub(m, 46)
    local fk = pre .. 'f:' .. fid
    local f = redis.call('HMGET', fk, 'e', 'v')
    if f[1] and (f[2] or tonumber(f[1]) <= now) then
      delete_family(pre, KEYS[1], KEYS[3], fid)
    else
      redis.call('DEL', pre .. field)
      redis.call('HDEL', fk, field)
      redis.call('ZREM', KEYS[1], m)
    end
  end
  n = n + 1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if not first[2] then
  redis.call('DEL', KEYS[2])
  return {n, ''}
end
local t = redis.call('PEXPIRETIME', KEYS[1])
if t > 0 then
  redis.call('SET', KEYS[2], first[2], 'PXAT', t)
else
  redis.call('SET', KEYS[2], first[2])
end
return {n, first[2]}
`)

// revokedScript reports 1 when a user's token is denied, by its own id or
// its session's, or issued before the user's cutoff, else 0.
//
// KEYS: denied token id, denied session id (the same key for a token of
// no session), cutoffs. ARGV: user id, issued.
var revokedScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if KEYS[2] ~= KEYS[1] and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 1 end
local c = redis.call('HGET', KEYS[3], ARGV[1])
if c and tonumber(ARGV[2]) < tonumber(c) then return 1 end
return 0
`)

// denyScript denies a token or session id of a user until at least the
// instant given (ms).
//
// KEYS: denied id. ARGV: user id, expiry (ms).
var denyScript = redis.NewScript(luaPrelude + `
redis.call('SADD', KEYS[1], ARGV[1])
extend(KEYS[1], ARGV[2])
return 0
`)

// cutOffScript moves a user's cutoff forward to at, never back, and keeps
// the cutoffs until at least the instant given (ms).
//
// KEYS: cutoffs. ARGV: user id, at, expiry (ms).
var cutOffScript = redis.NewScript(luaPrelude + `
local c = redis.call('HGET', KEYS[1], ARGV[1])
if c and tonumber(ARGV[2]) <= tonumber(c) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
extend(KEYS[1], ARGV[3])
return 1
`)

// luaClock is the helper of the one-time scripts that prune their purpose
// index.
const luaClock = `
-- now_ms returns the Redis server's time in milliseconds: the clock that
-- PEXPIREAT deadlines are read against, so an index entry scored below it
-- names a key that Redis has expired already.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// saveOneTimeScript stores a one-time token unless its hash is stored
// already, and adds it to its purpose index, first dropping the entries of
// tokens that Redis has expired. It returns 1 when the hash exists, else 0;
// a token whose key would expire at once is not stored (nor indexed).
//
// The clock of the pruning is Redis's own (TIME), not the services': it
// decides nothing about a token's validity, only which entries name keys
// that Redis has already deleted by that same clock.
//
// KEYS: token, purpose index. ARGV: token id, user id, purpose, expires
// (us), key expiry (ms).
var saveOneTimeScript = redis.NewScript(luaPrelude + luaClock + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', now))
if tonumber(ARGV[5]) <= now then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'p', ARGV[3], 'e', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
extend(KEYS[2], ARGV[5])
return 0
`)

// consumeOneTimeScript deletes a one-time token of a purpose that has not
// expired at now, and its index entry, and returns {user id, expires}; it
// returns {}, changing nothing, when the token is missing, of another
// purpose, or expired at now.
//
// KEYS: token, purpose index. ARGV: token id, purpose, now (us).
var consumeOneTimeScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'u', 'p', 'e')
if not f[1] or f[2] ~= ARGV[2] or not f[3] or tonumber(ARGV[3]) >= tonumber(f[3]) then return {} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return {f[1], f[3]}
`)

// revokeOneTimeScript deletes every one-time token of a user in a purpose
// index, whatever its expiry, and returns how many it deleted. It drops
// the entries of tokens that are gone, and leaves those of other users
// (who share the route) alone.
//
// KEYS: purpose index. ARGV: route prefix, user id, purpose.
var revokeOneTimeScript = redis.NewScript(`
local pre, uid, p = ARGV[1], ARGV[2], ARGV[3]
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local k = pre .. 'o:' .. id
  local f = redis.call('HMGET', k, 'u', 'p')
  if not f[1] or f[2] ~= p then
    redis.call('ZREM', KEYS[1], id)
  elseif f[1] == uid then
    redis.call('DEL', k)
    redis.call('ZREM', KEYS[1], id)
    n = n + 1
  end
end
return n
`)

// addKeyScript stores a signing key's record under its generation unless
// the generation is taken (HSETNX), and records its kid. It returns 1 when
// it stored the key, 0 when the generation is taken, and 2 when the kid is
// stored already, under any generation; in the last two cases it changes
// nothing.
//
// KEYS: records, kids. ARGV: generation, kid, record.
var addKeyScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 2 end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
`)

// deleteKeysScript deletes the signing keys whose generation is below a
// bound, records and kids, and returns how many records it deleted.
// Generations may exceed 2^53, where Lua numbers lose digits, so the
// script compares the decimal strings themselves, as Go formats int64s:
// no leading zeros, a generation at least 1, the bound with a sign when
// negative.
//
// KEYS: records, kids. ARGV: bound.
var deleteKeysScript = redis.NewScript(`
local function below(g, b)
  if string.sub(b, 1, 1) == '-' then return false end
  if #g ~= #b then return #g < #b end
  for i = 1, #g do
    local x, y = string.byte(g, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end
local kids = redis.call('HGETALL', KEYS[2])
for i = 1, #kids, 2 do
  if below(kids[i + 1], ARGV[1]) then redis.call('HDEL', KEYS[2], kids[i]) end
end
local n = 0
for _, g in ipairs(redis.call('HKEYS', KEYS[1])) do
  if below(g, ARGV[1]) then n = n + redis.call('HDEL', KEYS[1], g) end
end
return n
`)

// takeScript is failScript when the key may try now, and otherwise records
// nothing: it returns 0 after recording, or the wait (us).
//
// KEYS: throttle key. ARGV: now, interval, window.
var takeScript = redis.NewScript(`
local now, iv, win = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat + iv - now - win
if wait > 0 then return wait end
tat = tat + iv
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.ceil((tat - now) / 1000)))
return 0
`)

// refundScript gives back one interval of a key's credit
// ([authstore.Rate.Refund]): it moves the theoretical arrival time (us)
// back one interval, or deletes the key when that is no later than now; a
// key without a record stays without one.
//
// KEYS: throttle key. ARGV: now, interval.
var refundScript = redis.NewScript(`
local now, iv = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local tat = tonumber(cur) - iv
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.ceil((tat - now) / 1000)))
end
return 0
`)

// failScript records a failure in the generic cell rate algorithm of
// [authstore.Rate.GCRA]: it moves the key's theoretical arrival time (us) one
// interval on from itself or now, whichever is later, keeps it until it
// passes, and returns the wait before the next attempt (us).
//
// KEYS: throttle key. ARGV: now, interval, window.
var failScript = redis.NewScript(`
local now, iv, win = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
tat = tat + iv
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.ceil((tat - now) / 1000)))
local wait = tat + iv - now - win
if wait < 0 then wait = 0 end
return wait
`)
