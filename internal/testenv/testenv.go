// Package testenv gives tests the addresses of the throwaway servers that
// scripts/with-test-servers.sh starts. When a server is missing a test
// skips, except under CI=true, where it fails: integration tests never skip
// silently in CI.
package testenv

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
)

// PostgresURL returns the connection URL of the test PostgreSQL server.
func PostgresURL(t testing.TB) string { return need(t, "AUTH_TEST_POSTGRES_URL", "PostgreSQL") }

// RedisURL returns the URL of the test Redis server.
func RedisURL(t testing.TB) string { return need(t, "AUTH_TEST_REDIS_URL", "Redis") }

// RedisClusterAddrs returns the addresses (host:port) of the nodes of the
// test Redis Cluster.
func RedisClusterAddrs(t testing.TB) []string {
	return strings.Split(need(t, "AUTH_TEST_REDIS_CLUSTER", "Redis Cluster"), ",")
}

func need(t testing.TB, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true but %s is not set; run the tests through make test", what, env)
		}
		t.Skipf("%s not available (%s unset); run the tests through make test", what, env)
	}
	return v
}

// SyncBuffer is a bytes.Buffer safe for concurrent use: the output of a
// program under test, read while it still writes.
type SyncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
