package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/redisstore"
)

// redisTarget is redisstore on a Redis server or a Redis Cluster, under a
// key prefix of its own whose keys close deletes.
//
// The prefix is as long as the default one, "auth:", since every key
// carries it: four random hexadecimal digits and a colon.
type redisTarget struct {
	c       redis.UniversalClient
	prefix  string
	a       *auth.Auth
	cluster bool
	masters int
	version string
	restore []string // name, value, ... of the settings that close puts back
	keep    bool     // close leaves the keys in place
	once    sync.Once
}

// openRedis connects to the server at url, or to the cluster of addrs
// when addrs is not nil, and builds the store under a fresh prefix. It
// warms the server up with one session under another prefix, deleted
// again, so that the store's scripts are loaded before anything is
// measured. It sets the server settings of config (name=value) on every
// master first; close restores them, and deletes the keys unless keep is
// set.
func openRedis(ctx context.Context, url string, addrs []string, clients int, config []string, keep bool) (*redisTarget, error) {
	r := &redisTarget{prefix: shortPrefix(), cluster: addrs != nil, keep: keep}
	if r.cluster {
		r.c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, PoolSize: clients + 2})
	} else {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("capacity: redis: %w", err)
		}
		opt.PoolSize = clients + 2
		r.c = redis.NewClient(opt)
	}
	err := r.c.Ping(ctx).Err()
	if err == nil {
		err = r.configure(ctx, config)
	}
	if err == nil {
		err = r.warmUp(ctx)
	}
	if err == nil {
		var mu sync.Mutex // guards r.version and r.masters against the callbacks on each master
		err = r.eachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			info, err := c.Info(ctx, "server").Result()
			if err == nil {
				mu.Lock()
				r.version = infoField(info, "redis_version")
				r.masters++
				mu.Unlock()
			}
			return err
		})
	}
	var store *redisstore.Store
	if err == nil {
		store, err = redisstore.New(r.c, redisstore.WithKeyPrefix(r.prefix))
	}
	if err == nil {
		r.a, err = newAuth(store)
	}
	if err != nil {
		r.close()
		return nil, fmt.Errorf("capacity: %s: %w", r.name(), err)
	}
	return r, nil
}

// configure sets each name=value of config with CONFIG SET on every
// master, and records the values it replaced for close.
func (r *redisTarget) configure(ctx context.Context, config []string) error {
	for _, kv := range config {
		name, value, _ := strings.Cut(kv, "=")
		old, err := r.setting(ctx, name)
		if err != nil {
			return err
		}
		r.restore = append(r.restore, name, old)
		if err := r.eachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.ConfigSet(ctx, name, value).Err()
		}); err != nil {
			return fmt.Errorf("CONFIG SET %s %s: %w", name, value, err)
		}
	}
	return nil
}

// setting returns the value of the server setting name (of the first
// master that answers, on a cluster).
func (r *redisTarget) setting(ctx context.Context, name string) (string, error) {
	var (
		mu  sync.Mutex // guards val against the callbacks on each master
		val string
	)
	err := r.eachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		m, err := c.ConfigGet(ctx, name).Result()
		if err != nil {
			return err
		}
		v, ok := m[name]
		if !ok {
			return fmt.Errorf("no setting %s", name)
		}
		mu.Lock()
		val = v
		mu.Unlock()
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("CONFIG GET %s: %w", name, err)
	}
	return val, nil
}

// warmUp starts and rotates one session under a prefix of its own, and
// deletes its keys.
func (r *redisTarget) warmUp(ctx context.Context) error {
	prefix := shortPrefix()
	store, err := redisstore.New(r.c, redisstore.WithKeyPrefix(prefix))
	if err != nil {
		return err
	}
	a, err := newAuth(store)
	if err != nil {
		return err
	}
	tokens, err := startSessions(ctx, a, 1, 1)
	if err == nil {
		err = rotateAll(ctx, a, tokens, 1)
	}
	if err != nil {
		return err
	}
	return r.deleteKeys(ctx, prefix)
}

func (r *redisTarget) name() string {
	if r.cluster {
		return "Redis Cluster"
	}
	return "Redis"
}

func (r *redisTarget) auth() *auth.Auth { return r.a }

// eachMaster calls f with a client of the server, or of each master of
// the cluster.
func (r *redisTarget) eachMaster(ctx context.Context, f func(context.Context, *redis.Client) error) error {
	switch c := r.c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, f)
	case *redis.Client:
		return f(ctx, c)
	}
	return fmt.Errorf("capacity: unexpected client %T", r.c)
}

// footprint returns used_memory of INFO memory, summed over the masters of
// a cluster.
func (r *redisTarget) footprint(ctx context.Context) (footprint, error) {
	var used atomic.Int64
	err := r.eachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(infoField(info, "used_memory"), 10, 64)
		if err != nil {
			return fmt.Errorf("used_memory: %w", err)
		}
		used.Add(n)
		return nil
	})
	if err != nil {
		return footprint{}, fmt.Errorf("capacity: %s: INFO memory: %w", r.name(), err)
	}
	return footprint{used: used.Load()}, nil
}

// infoField returns the value of field in the reply of INFO.
func infoField(info, field string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// baseline returns one SET of a key of the worker's own.
func (r *redisTarget) baseline(_ context.Context, _ int) (func(context.Context, int) error, error) {
	return func(ctx context.Context, w int) error {
		if err := r.c.Set(ctx, r.prefix+"baseline:"+strconv.Itoa(w), "x", 0).Err(); err != nil {
			return fmt.Errorf("capacity: %s: baseline: %w", r.name(), err)
		}
		return nil
	}, nil
}

// deleteKeys deletes every key that begins with prefix, on every master.
func (r *redisTarget) deleteKeys(ctx context.Context, prefix string) error {
	return r.eachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var batch []string
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range batch {
					p.Unlink(ctx, k)
				}
				return nil
			})
			batch = batch[:0]
			return err
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	})
}

func (r *redisTarget) close() {
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if r.keep {
			fmt.Fprintf(os.Stderr, "capacity: %s: keys under %q kept\n", r.name(), r.prefix)
		} else {
			r.deleteKeys(ctx, r.prefix)
		}
		for i := 0; i+1 < len(r.restore); i += 2 {
			r.eachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
				return c.ConfigSet(ctx, r.restore[i], r.restore[i+1]).Err()
			})
		}
		r.c.Close()
	})
}

// shortPrefix returns a random key prefix as long as
// [redisstore.DefaultKeyPrefix].
func shortPrefix() string { return randomHex(2) + ":" }
