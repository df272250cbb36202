package auth

import (
	"sync"
	"time"
)

// Defaults of the verified-token cache ([WithTokenCache]).
const (
	// DefaultTokenCacheEntries is how many verified tokens an [Auth]
	// remembers by default.
	DefaultTokenCacheEntries = 10_000
	// DefaultTokenCacheBytes bounds, by default, the memory those tokens
	// and their claims take.
	DefaultTokenCacheBytes = 32 << 20
)

// cacheShards is the number of independently locked parts of the cache,
// so that concurrent insertions seldom wait for one another.
const cacheShards = 32

// entryOverhead approximates the bytes an entry takes beyond its token and
// payload: the map slot, the queue slot, the entry and its claims.
const entryOverhead = 320

// tokenCache remembers tokens that verified fully, by their whole compact
// form, with the claims their verification produced and the key that
// verified them. Only tokens that passed every check enter, so an attacker
// cannot fill it without valid tokens; each shard evicts in insertion order
// at a constant cost per insertion, within its bounds of entries and bytes.
type tokenCache struct {
	shards   []cacheShard
	entries  int   // per shard
	bytes    int64 // per shard
	shardMod uint64
}

type cacheShard struct {
	// m maps a token to its *cacheEntry. A lookup takes no lock (sync.Map
	// reads are lock-free), so concurrent requests never wait for one
	// another; every change to m happens under mu.
	m sync.Map

	mu    sync.Mutex  // guards the fields below, and changes to m
	n     int         // entries in m
	queue []cacheSlot // insertion order, oldest at head
	head  int
	bytes int64
	seq   uint64
	_     [64]byte // keeps shards on distinct cache lines
}

// cacheEntry is one verified token. Its fields never change once inserted.
type cacheEntry struct {
	claims Claims // as verification produced them; copied out on a hit
	key    *Key   // the key that verified the signature
	size   int64
	seq    uint64 // the insertion that made it
}

// cacheSlot is a queue slot: the token of an insertion.
type cacheSlot struct {
	token string
	seq   uint64
}

// newTokenCache returns a cache of at most entries tokens and about bytes
// bytes, or nil when entries is 0.
func newTokenCache(entries int, bytes int64) *tokenCache {
	if entries <= 0 || bytes <= 0 {
		return nil
	}
	n := min(cacheShards, entries)
	c := &tokenCache{
		shards:   make([]cacheShard, n),
		entries:  entries / n,
		bytes:    max(bytes/int64(n), 1),
		shardMod: uint64(n),
	}
	return c
}

// shard returns the shard of token. The last bytes of a token are its
// signature, which only a key holder can choose.
func (c *tokenCache) shard(token string) *cacheShard {
	var h uint64
	for i := max(0, len(token)-8); i < len(token); i++ {
		h = h<<8 | uint64(token[i])
	}
	// Mix (the finalizer of SplitMix64): base64 characters carry six bits
	// each, the last one fewer, and every bit must reach the shard index.
	h ^= uint64(len(token)) << 56
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return &c.shards[h%c.shardMod]
}

// get returns the entry of token, or nil.
func (c *tokenCache) get(token string) *cacheEntry {
	if v, ok := c.shard(token).m.Load(token); ok {
		return v.(*cacheEntry)
	}
	return nil
}

// lookupLocked returns the entry of token in s; s.mu must be held.
func (s *cacheShard) lookupLocked(token string) (*cacheEntry, bool) {
	v, ok := s.m.Load(token)
	if !ok {
		return nil, false
	}
	return v.(*cacheEntry), true
}

// deleteLocked removes token's entry e from s; s.mu must be held.
func (s *cacheShard) deleteLocked(token string, e *cacheEntry) {
	s.m.Delete(token)
	s.n--
	s.bytes -= e.size
}

// remove drops the entry e of token, unless it was replaced meanwhile.
func (c *tokenCache) remove(token string, e *cacheEntry) {
	s := c.shard(token)
	s.mu.Lock()
	if cur, ok := s.lookupLocked(token); ok && cur == e {
		s.deleteLocked(token, e)
	}
	s.mu.Unlock()
}

// put remembers token, verified by key with claims cl (copied), until it
// expires or is evicted. now is the verification's instant: on the way,
// the oldest entries that expired by then leave.
func (c *tokenCache) put(token string, cl *Claims, key *Key, now time.Time) {
	size := int64(len(token)+len(cl.raw)+entryOverhead) + int64(16*len(cl.Audience)+16*len(cl.Roles))
	if size > c.bytes {
		return
	}
	e := &cacheEntry{claims: *cl, key: key, size: size}
	e.claims.Audience = append([]string(nil), cl.Audience...)
	if cl.Roles != nil {
		e.claims.Roles = append([]string(nil), cl.Roles...)
	}
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.lookupLocked(token); ok {
		return // another request verified the same token meanwhile
	}
	s.seq++
	e.seq = s.seq
	s.m.Store(token, e)
	s.n++
	s.bytes += size
	s.queue = append(s.queue, cacheSlot{token: token, seq: e.seq})
	// Evict from the head while over a bound, and the head entries whose
	// tokens expired. Each insertion adds one slot and each slot leaves
	// once, so the cost per insertion is constant on average.
	for s.head < len(s.queue) {
		slot := s.queue[s.head]
		cur, live := s.lookupLocked(slot.token)
		live = live && cur.seq == slot.seq
		over := s.n > c.entries || s.bytes > c.bytes || len(s.queue)-s.head > 2*c.entries
		if live && !over && now.Before(cur.claims.ExpiresAt) {
			break
		}
		if live {
			s.deleteLocked(slot.token, cur)
		}
		s.queue[s.head] = cacheSlot{}
		s.head++
	}
	// Compact the queue once its dead head is as long as its live tail.
	if s.head > 0 && s.head >= len(s.queue)-s.head {
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue = s.queue[:n]
		s.head = 0
	}
}

// len returns the number of entries and their bytes, for tests.
func (c *tokenCache) len() (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		entries += s.n
		bytes += s.bytes
		s.mu.Unlock()
	}
	return entries, bytes
}
