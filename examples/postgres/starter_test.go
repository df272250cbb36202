package main

import (
	"testing"

	"github.com/jwtkit/auth/examples/internal/starter"
	"github.com/jwtkit/auth/internal/testenv"
)

// TestStarter does what a user who starts a service from this example
// does: it copies main.go and users.go into a directory of its own outside
// the repository, writes a go.mod that requires github.com/jwtkit/auth and
// its sqlstore and redisstore modules (replaced by this checkout) and the
// drivers, runs go mod tidy and go build offline, runs the program on a
// free port against the test PostgreSQL and Redis, and registers a user
// over HTTP.
func TestStarter(t *testing.T) {
	starter.SkipShort(t)
	t.Parallel()
	pgURL, redisURL := testenv.PostgresURL(t), testenv.RedisURL(t)
	schema := freshSchema(t, pgURL, "starter_")

	// The third-party modules are required at the versions of this
	// example's build: offline, the module cache holds those, and not
	// necessarily the older ones that the stores' go.mod files ask for.
	root := starter.Root(t)
	mods := append(starter.BuildList(t),
		starter.Local(root, starter.RootModule, "."),
		starter.Local(root, starter.RootModule+"/sqlstore", "sqlstore"),
		starter.Local(root, starter.RootModule+"/redisstore", "redisstore"),
		starter.Local(root, starter.RootModule+"/otelauth", "otelauth"),
	)
	bin := starter.Build(t, ".", mods...)
	base := starter.Start(t, bin, "postgres",
		"DATABASE_URL="+pgURL,
		"DATABASE_SCHEMA="+schema,
		"REDIS_URL="+redisURL,
		"REDIS_PREFIX="+randomName("starter:")+":",
	)
	starter.CheckRegister(t, base)
}
