// Command postgres serves the same HTTP contract as examples/basic, with
// accounts, sessions and revocations in PostgreSQL, so that any number of
// instances behind a load balancer share them: a refresh token rotated on
// one instance and replayed on another revokes the session everywhere, and a
// logout on one is refused by all. With REDIS_URL set, the access-token
// denylist, the per-user cutoff, login and registration throttling live in
// Redis instead, shared by every instance too, and so do the tokens of
// password-reset and verification links. The refresh throttle
// (AUTH_REFRESH_LIMIT) stays in each instance's memory, so that refresh
// needs only PostgreSQL and keeps working while Redis is down.
//
//	$ DATABASE_URL=postgres://localhost/app?sslmode=disable go run .
//	postgres: listening on http://127.0.0.1:8080
//
//	$ curl -s -X POST localhost:8080/api/auth/register -H 'Content-Type: application/json' \
//	    -d '{"email":"ada@example.com","password":"correct horse battery","name":"Ada","refreshTransfer":"body"}'
//	{"accessToken":"eyJ…","expiresIn":900,"refreshToken":"…","user":{…}}
//
// Configuration: DATABASE_URL (required), REDIS_URL (optional), and every
// variable of examples/basic. Tables are created at start. With
// AUTH_KEY_ENCRYPTION_KEY (base64 of 32 bytes) and AUTH_KEY_ROTATION (a Go
// duration) both set, the signing keys of AUTH_ALG live sealed in
// PostgreSQL and every instance rotates them on that schedule (package
// keyrotation); AUTH_SECRET and AUTH_PRIVATE_KEY_FILE are then unused.
// With METRICS_ADDR set (a loopback or monitoring-network address), GET
// /metrics there serves the OpenTelemetry metrics of module otelauth in
// the Prometheus text format; the API never serves them.
//
// # Starting a service of your own
//
// This program is meant to be copied. The server itself is package
// github.com/jwtkit/auth/examples/refserver of the library's module, which
// any module may import, so a copy of main.go and users.go (the tests stay
// behind) builds in a module of your own:
//
//	$ mkdir myservice && cd myservice
//	$ cp ~/src/auth/examples/postgres/main.go ~/src/auth/examples/postgres/users.go .
//	$ go mod init example.com/myservice
//	$ go mod tidy        # adds github.com/jwtkit/auth, its sqlstore and redisstore modules, pgx and go-redis
//	$ DATABASE_URL=postgres://localhost/app?sslmode=disable go run .
//	postgres: listening on http://127.0.0.1:8080
//
// starter_test.go does exactly this in a temporary directory. users.go is
// the account table: change it to fit the accounts you already have.
//
// This directory is a module of its own whose go.mod points at the
// checkout with replace directives, so `go run ...@version` cannot run it.
// From a published version, copy main.go and users.go from the
// repository as above: `go mod tidy` then requires the tagged
// github.com/jwtkit/auth, github.com/jwtkit/auth/sqlstore and
// github.com/jwtkit/auth/redisstore.
package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/examples/refserver"
	"github.com/jwtkit/auth/keyrotation"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/otelauth"
	"github.com/jwtkit/auth/redisstore"
	"github.com/jwtkit/auth/sqlstore"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
}

// instance is one server process's worth of state.
type instance struct {
	server *refserver.Server
	// metrics serves the instance's metrics in the Prometheus text
	// format, at METRICS_ADDR when it is set.
	metrics http.Handler
	// keys rotates the signing keys through the database when
	// AUTH_KEY_ENCRYPTION_KEY and AUTH_KEY_ROTATION are set; nil otherwise.
	keys  *keyrotation.Rotator
	close func()
}

// newInstance connects to the stores that getenv names and builds the
// server on them; rotation options, if any, go to the key rotation. schema, when set, keeps every table in that PostgreSQL
// schema (tests give each run its own).
func newInstance(ctx context.Context, cfg *refserver.Config, getenv func(string) string, logger *slog.Logger, rotation ...keyrotation.Option) (*instance, error) {
	dsn := getenv("DATABASE_URL")
	if dsn == "" {
		return nil, errors.New("DATABASE_URL is required")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	db.SetMaxOpenConns(20)
	closers := []func(){func() { db.Close() }}
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		closeAll()
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	var opts []sqlstore.Option
	usersTable := "app_users"
	if schema := getenv("DATABASE_SCHEMA"); schema != "" {
		opts = append(opts, sqlstore.WithSchema(schema))
		usersTable = schema + ".app_users"
	}
	store, err := sqlstore.New(db, sqlstore.Postgres, opts...)
	if err == nil {
		err = store.Migrate(ctx)
	}
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("session store: %w", err)
	}
	users, err := newPGUsers(ctx, db, usersTable)
	if err != nil {
		closeAll()
		return nil, err
	}
	tel, metrics, stopMetrics, err := newTelemetry()
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, stopMetrics)
	rotation = append([]keyrotation.Option{keyrotation.WithEvents(tel.Events())}, rotation...)
	rotator, err := newRotator(ctx, cfg, getenv, tel.WrapKeyStore(store), logger, rotation...)
	if err != nil {
		closeAll()
		return nil, err
	}
	if rotator != nil {
		cfg.Keys = rotator.KeySet()
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = rotator.Run(rctx)
		}()
		closers = append([]func(){func() { stop(); <-done }}, closers...)
	}
	backend := refserver.Backend{Users: users, Refresh: store, Revocation: store, OneTime: store,
		Events: tel.Events(), Observer: tel.Observer()}
	if url := getenv("REDIS_URL"); url != "" {
		ropts, err := redis.ParseURL(url)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb := redis.NewClient(ropts)
		closers = append(closers, func() { rdb.Close() })
		var prefix []redisstore.Option
		if p := getenv("REDIS_PREFIX"); p != "" {
			prefix = append(prefix, redisstore.WithKeyPrefix(p))
		}
		rs, err := redisstore.New(rdb, prefix...)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		th, err := redisstore.NewThrottle(rdb, cfg.LoginRate, prefix...)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		reg, err := redisstore.NewThrottle(rdb, cfg.RegisterRate, prefix...)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		// The refresh throttle stays in each instance's memory: refresh
		// needs only PostgreSQL, and keeps working while Redis is down.
		backend.Revocation, backend.Throttle, backend.OneTime = rs, th, rs
		backend.RegisterThrottle = reg
	}
	if backend.Throttle == nil {
		if backend.Throttle, err = memstore.NewThrottle(cfg.LoginRate); err != nil {
			closeAll()
			return nil, fmt.Errorf("AUTH_LOGIN_LIMIT: %w", err)
		}
	}
	// Every store call is a span, nested in the login and refresh spans.
	backend.Refresh = tel.WrapRefreshStore(backend.Refresh)
	backend.Revocation = tel.WrapRevocationStore(backend.Revocation)
	backend.Throttle = tel.WrapThrottle(backend.Throttle)
	if backend.RegisterThrottle != nil {
		backend.RegisterThrottle = tel.WrapThrottle(backend.RegisterThrottle)
	}
	if backend.RefreshThrottle != nil {
		backend.RefreshThrottle = tel.WrapThrottle(backend.RefreshThrottle)
	}
	backend.OneTime = tel.WrapOneTimeStore(backend.OneTime)
	srv, err := refserver.New(ctx, cfg, logger, backend)
	if err != nil {
		closeAll()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return &instance{server: srv, metrics: mux, keys: rotator, close: closeAll}, nil
}

// newTelemetry returns the instance's metrics and spans (package
// otelauth): the metrics in a Prometheus registry of the instance's own,
// served by the handler, and the spans to the global tracer provider
// (none until the program sets one, an OTLP exporter say). stop flushes
// and stops the metrics.
func newTelemetry() (tel *otelauth.Telemetry, metrics http.Handler, stop func(), err error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("metrics: %w", err)
	}
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	tel, err = otelauth.New(otelauth.WithMeterProvider(meters))
	if err != nil {
		_ = meters.Shutdown(context.Background())
		return nil, nil, nil, fmt.Errorf("metrics: %w", err)
	}
	stop = func() { _ = meters.Shutdown(context.Background()) }
	return tel, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), stop, nil
}

// newRotator returns the rotation of the signing keys through store that
// AUTH_KEY_ENCRYPTION_KEY (base64 of 32 bytes) and AUTH_KEY_ROTATION (a Go
// duration) ask for, or nil when neither is set: the keys of AUTH_SECRET or
// AUTH_PRIVATE_KEY_FILE then sign as in examples/basic. New keys are of
// AUTH_ALG, published a quarter of the rotation period before they sign,
// and kept published for an access-token lifetime plus that quarter after
// they stop.
func newRotator(ctx context.Context, cfg *refserver.Config, getenv func(string) string, store authstore.KeyStore, logger *slog.Logger, opts ...keyrotation.Option) (*keyrotation.Rotator, error) {
	kekText, every := getenv("AUTH_KEY_ENCRYPTION_KEY"), getenv("AUTH_KEY_ROTATION")
	switch {
	case kekText == "" && every == "":
		return nil, nil
	case kekText == "":
		return nil, errors.New("AUTH_KEY_ENCRYPTION_KEY: required with AUTH_KEY_ROTATION")
	case every == "":
		return nil, errors.New("AUTH_KEY_ROTATION: required with AUTH_KEY_ENCRYPTION_KEY")
	}
	kek, err := base64.StdEncoding.DecodeString(kekText)
	if err != nil || len(kek) != keyrotation.KeyEncryptionKeySize {
		return nil, fmt.Errorf("AUTH_KEY_ENCRYPTION_KEY: not base64 of %d bytes", keyrotation.KeyEncryptionKeySize)
	}
	period, err := time.ParseDuration(every)
	if err != nil || period <= 0 {
		return nil, fmt.Errorf("AUTH_KEY_ROTATION: %q is not a positive Go duration", every)
	}
	p := keyrotation.Policy{
		Algorithm: cfg.Keys.SigningKey().Algorithm(),
		Every:     period,
		Publish:   period / 4,
		Retain:    cfg.AccessTTL + period/4,
	}
	r, err := keyrotation.New(ctx, store, kek, p, append([]keyrotation.Option{keyrotation.WithLogger(logger)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("AUTH_KEY_ROTATION: %w", err)
	}
	return r, nil
}

func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := refserver.LoadConfig(getenv, logger)
	if err != nil {
		return err
	}
	inst, err := newInstance(ctx, cfg, getenv, logger)
	if err != nil {
		return err
	}
	defer inst.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go purge(ctx, inst, logger)
	if addr := getenv("METRICS_ADDR"); addr != "" {
		stop, err := serveMetrics(ctx, addr, inst.metrics, logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	return refserver.Serve(ctx, "postgres", cfg.Addr, inst.server, stderr, logger)
}

// serveMetrics serves GET /metrics on its own listener at addr, apart from
// the API, so that the metrics are reachable from the monitoring network
// only; stop closes it.
func serveMetrics(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("metrics server", "err", err.Error())
		}
	}()
	logger.Info("metrics on http://" + ln.Addr().String() + "/metrics")
	return func() { _ = srv.Close() }, nil
}

// purge deletes expired and revoked sessions every few minutes, in batches.
func purge(ctx context.Context, inst *instance, logger *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := inst.server.Auth().Purge(ctx); err != nil {
				logger.Warn("purge", "err", err)
			} else if n > 0 {
				logger.Info("purged sessions", "items", n)
			}
		}
	}
}
