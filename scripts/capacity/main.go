// Command capacity measures what the shipped stores cost per session: the
// bytes one session keeps at rest in PostgreSQL (sqlstore) and in Redis
// (redisstore), after it starts and after some rotations, and the rotations
// per second through Auth.Refresh beside a bare one-row write on the same
// server at the same concurrency. It prints Markdown tables, with
// projections for 10 and 100 million sessions, for docs/SCALE.md.
//
// It reads the server addresses that scripts/with-test-servers.sh exports
// (AUTH_TEST_POSTGRES_URL, AUTH_TEST_REDIS_URL and, optionally,
// AUTH_TEST_REDIS_CLUSTER), works in a schema and a key prefix of its own,
// and removes them when it ends:
//
//	scripts/with-test-servers.sh bash -c 'cd scripts/capacity && go run . -sessions 100000'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

// config is what the flags set.
type config struct {
	sessions    int           // sessions started in each store
	rotations   []int         // rotations per session at which sizes are taken, ascending
	loadClients int           // concurrent clients that start and rotate the sessions
	clients     []int         // concurrent clients of each throughput point
	duration    time.Duration // length of one throughput point
	maxOps      int64         // operations one throughput point stops at
	runs        int           // how often each throughput point runs
	masterGiB   float64       // memory budget of one Redis Cluster master
	indexGiB    float64       // index budget of one PostgreSQL shard
	redisConfig []string      // name=value pairs set with CONFIG SET on every Redis master while measuring
	keep        bool          // leave the schema and the keys in place, for inspection
}

// servers are the addresses of the servers to measure.
type servers struct {
	postgres string   // connection URL
	redis    string   // URL
	cluster  []string // host:port of the nodes; nil to skip
}

// serversFromEnv reads the addresses that scripts/with-test-servers.sh
// exports. PostgreSQL and Redis are required; the cluster is optional.
func serversFromEnv(getenv func(string) string) (servers, error) {
	s := servers{postgres: getenv("AUTH_TEST_POSTGRES_URL"), redis: getenv("AUTH_TEST_REDIS_URL")}
	if s.postgres == "" || s.redis == "" {
		return s, errors.New("capacity: AUTH_TEST_POSTGRES_URL and AUTH_TEST_REDIS_URL must be set; run through scripts/with-test-servers.sh")
	}
	if c := getenv("AUTH_TEST_REDIS_CLUSTER"); c != "" {
		s.cluster = strings.Split(c, ",")
	}
	return s, nil
}

func main() {
	var (
		cfg                             config
		rotations, clients, redisConfig string
	)
	flag.IntVar(&cfg.sessions, "sessions", 100_000, "sessions started in each store")
	flag.StringVar(&rotations, "rotations", "1,10", "rotations per session at which the stores' sizes are taken (comma-separated, ascending)")
	flag.IntVar(&cfg.loadClients, "load-clients", 16, "concurrent clients that start and rotate the sessions")
	flag.StringVar(&clients, "clients", "1,4,16", "concurrent clients of each throughput point (comma-separated)")
	flag.DurationVar(&cfg.duration, "duration", 4*time.Second, "length of one throughput point")
	flag.Int64Var(&cfg.maxOps, "max-ops", 1_000_000, "operations at which a throughput point stops before its duration")
	flag.IntVar(&cfg.runs, "runs", 2, "runs of each throughput point")
	flag.Float64Var(&cfg.masterGiB, "master-gib", 25, "usable memory of one Redis Cluster master, GiB, for the projections")
	flag.Float64Var(&cfg.indexGiB, "shard-index-gib", 16, "index bytes one PostgreSQL shard keeps in memory, GiB, for the projections")
	flag.StringVar(&redisConfig, "redis-config", "", "name=value,... set with CONFIG SET on every Redis server and cluster master while measuring, and restored after (for example hash-max-listpack-value=256,zset-max-listpack-value=128)")
	flag.BoolVar(&cfg.keep, "keep", false, "leave the PostgreSQL schema and the Redis keys in place at the end, for inspection (their names go to stderr)")
	flag.Parse()
	if redisConfig != "" {
		cfg.redisConfig = strings.Split(redisConfig, ",")
	}
	var err error
	if cfg.rotations, err = parseInts(rotations); err != nil {
		fatal(fmt.Errorf("capacity: -rotations: %w", err))
	}
	if cfg.clients, err = parseInts(clients); err != nil {
		fatal(fmt.Errorf("capacity: -clients: %w", err))
	}
	srv, err := serversFromEnv(os.Getenv)
	if err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, srv, os.Stdout, os.Stderr); err != nil {
		stop()
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// parseInts parses a comma-separated list of positive integers in
// ascending order.
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("%d does not follow %d in ascending order", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	return out, nil
}

// validate checks what the flags cannot.
func (c *config) validate() error {
	switch {
	case c.sessions < 1, c.loadClients < 1, c.runs < 1, c.maxOps < 1, c.duration <= 0:
		return errors.New("capacity: -sessions, -load-clients, -runs, -max-ops and -duration must be positive")
	case len(c.rotations) == 0, len(c.clients) == 0:
		return errors.New("capacity: -rotations and -clients need at least one value")
	case c.masterGiB <= 0, c.indexGiB <= 0:
		return errors.New("capacity: -master-gib and -shard-index-gib must be positive")
	}
	for _, kv := range c.redisConfig {
		if k, v, ok := strings.Cut(kv, "="); !ok || k == "" || v == "" {
			return fmt.Errorf("capacity: -redis-config: %q is not name=value", kv)
		}
	}
	for _, n := range c.clients {
		if n > c.sessions {
			return fmt.Errorf("capacity: %d clients need at least as many sessions (-sessions %d)", n, c.sessions)
		}
	}
	return nil
}

// run measures every store of srv and writes the tables to out, and its
// progress to progress.
func run(ctx context.Context, cfg config, srv servers, out, progress io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "capacity: "+format+"\n", args...)
	}
	var r report
	r.cfg = cfg

	pg, err := openPostgres(ctx, srv.postgres, maxClients(cfg), cfg.keep)
	if err != nil {
		return err
	}
	defer pg.close()
	r.postgresVersion = pg.version
	if r.postgres, err = measureStorage(ctx, cfg, pg, logf); err != nil {
		return err
	}
	if r.postgresRates, err = measureRates(ctx, cfg, pg, r.postgres.tokens, logf); err != nil {
		return err
	}
	pg.close() // its sessions and tables are gone before Redis starts

	rd, err := openRedis(ctx, srv.redis, nil, maxClients(cfg), cfg.redisConfig, cfg.keep)
	if err != nil {
		return err
	}
	defer rd.close()
	r.redisVersion = rd.version
	if r.redis, err = measureStorage(ctx, cfg, rd, logf); err != nil {
		return err
	}
	if r.redisRates, err = measureRates(ctx, cfg, rd, r.redis.tokens, logf); err != nil {
		return err
	}
	rd.close()

	if srv.cluster != nil {
		cl, err := openRedis(ctx, "", srv.cluster, maxClients(cfg), cfg.redisConfig, cfg.keep)
		if err != nil {
			return err
		}
		defer cl.close()
		if r.cluster, err = measureStorage(ctx, cfg, cl, logf); err != nil {
			return err
		}
		r.clusterMasters = cl.masters
		cl.close()
	}
	return r.write(out)
}

// maxClients is the most clients any phase runs at once.
func maxClients(cfg config) int {
	n := cfg.loadClients
	for _, c := range cfg.clients {
		n = max(n, c)
	}
	return n
}
