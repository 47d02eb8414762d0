/**
 * The Lua scripts of the cluster: each runs atomically in Redis, so two nodes
 * can never both believe they took the same lease. Times come from Redis's own
 * clock (`TIME`) where several nodes compare them.
 */

/**
 * Renews this node's membership and returns the live members.
 * KEYS[1] the members sorted set (score: expiry in ms); ARGV[1] node id, ARGV[2] lease ms.
 */
export const HEARTBEAT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/**
 * Takes or extends a room's lease. Returns {1, holder, epoch, taken} when this
 * node holds it afterwards (taken: 1 when the lease was free and this call
 * took it under a new epoch, 0 when it extended this node's lease), {0,
 * holder, epoch, 0} when another node does.
 * KEYS[1] the lease hash, KEYS[2] the room's epoch counter; ARGV[1] node id, ARGV[2] lease ms.
 */
export const ACQUIRE_SCRIPT = `
local holder = redis.call('HGET', KEYS[1], 'node')
if holder and holder ~= ARGV[1] then
  return {0, holder, redis.call('HGET', KEYS[1], 'epoch'), 0}
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return {1, holder, redis.call('HGET', KEYS[1], 'epoch'), 0}
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'epoch', epoch)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return {1, ARGV[1], tostring(epoch), 1}
`;

/**
 * Renews many leases of this node at once; returns 1 per lease still held, 0 per lease lost.
 * KEYS the lease hashes; ARGV[1] node id, ARGV[2] lease ms, ARGV[2 + i] the epoch of KEYS[i].
 */
export const RENEW_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local lease = redis.call('HMGET', key, 'node', 'epoch')
  if lease[1] == ARGV[1] and lease[2] == ARGV[i + 2] then
    redis.call('PEXPIRE', key, tonumber(ARGV[2]))
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`;

/** Drops a lease if this node still holds it under that epoch. KEYS[1] the lease; ARGV[1] node id, ARGV[2] epoch. */
export const RELEASE_SCRIPT = `
local lease = redis.call('HMGET', KEYS[1], 'node', 'epoch')
if lease[1] == ARGV[1] and lease[2] == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
