package redisstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/internal/testenv"
)

// testRate is a throttle rate of 5 failures per 15 minutes, the library's
// default login rate.
var testRate = authstore.Rate{Limit: 5, Window: 15 * time.Minute}

// newClient returns a client of the test Redis, closed when t ends.
func newClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("redis.ParseURL = %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	return c
}

// newClusterClient returns a client of the test Redis Cluster, closed when
// t ends (skipping t locally, and failing it under CI=true, when there is
// none).
func newClusterClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: testenv.RedisClusterAddrs(t)})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	return c
}

// newPrefix returns a key prefix of its own for one test, and deletes the
// keys under it when t ends, so that tests never see each other's data.
func newPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	prefix := "authtest:" + uuid.NewString() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := scanKeys(ctx, c, prefix)
		if err != nil {
			t.Errorf("scan %s*: %v", prefix, err)
			return
		}
		for len(keys) > 0 {
			batch := keys[:min(len(keys), 1000)]
			keys = keys[len(batch):]
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range batch {
					p.Unlink(ctx, k)
				}
				return nil
			})
			if err != nil {
				t.Errorf("UNLINK %d keys of %s*: %v", len(cmds), prefix, err)
				return
			}
		}
	})
	return prefix
}

// scanKeys returns every key that begins with prefix, from every master of
// a cluster.
func scanKeys(ctx context.Context, c redis.UniversalClient, prefix string) ([]string, error) {
	pattern := globEscape(prefix) + "*"
	scan := func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		var keys []string
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return keys, iter.Err()
	}
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return scan(ctx, c)
	}
	var (
		mu   sync.Mutex
		keys []string
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		k, err := scan(ctx, m)
		mu.Lock()
		keys = append(keys, k...)
		mu.Unlock()
		return err
	})
	return keys, err
}

// globEscape escapes the glob characters of s for SCAN MATCH.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
