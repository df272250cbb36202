package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtkit/auth"
)

// target is one store under measurement, with the server it runs on.
type target interface {
	// name names the store in the tables.
	name() string
	// auth returns the Auth that keeps its sessions in the store.
	auth() *auth.Auth
	// footprint settles the server (VACUUM on PostgreSQL) and returns the
	// bytes that the store's data takes on it now.
	footprint(ctx context.Context) (footprint, error)
	// baseline returns the bare one-row write that the store's rotations
	// are compared with; each of clients workers writes a row of its own.
	baseline(ctx context.Context, clients int) (func(ctx context.Context, worker int) error, error)
	// close removes what the measurement stored and closes the
	// connections; it may be called more than once.
	close()
}

// footprint is what a store's data takes on its server, in bytes. Redis
// sets used only; PostgreSQL sets all of them.
type footprint struct {
	used    int64 // Redis: used_memory; PostgreSQL: pg_total_relation_size after VACUUM
	heap    int64 // PostgreSQL: pg_relation_size (the rows' main fork) after VACUUM FULL
	indexes int64 // PostgreSQL: pg_indexes_size after VACUUM FULL
	compact int64 // PostgreSQL: pg_total_relation_size after VACUUM FULL
}

func (f footprint) minus(g footprint) footprint {
	return footprint{used: f.used - g.used, heap: f.heap - g.heap, indexes: f.indexes - g.indexes, compact: f.compact - g.compact}
}

// storagePoint is the footprint of the sessions after some rotations of
// each.
type storagePoint struct {
	rotations int       // rotations per session so far
	total     footprint // above the empty store
	took      time.Duration
}

// storage is what measureStorage found.
type storage struct {
	sessions int
	points   []storagePoint // first without rotations, then one per -rotations value
	tokens   []string       // the newest refresh token of each session
}

// perSession returns f divided by the sessions.
func (s *storage) perSession(f int64) float64 { return float64(f) / float64(s.sessions) }

// measureStorage takes the footprint of the empty store, starts
// cfg.sessions sessions and takes it again, then rotates every session up
// to each of cfg.rotations times, taking it at each.
func measureStorage(ctx context.Context, cfg config, t target, logf func(string, ...any)) (*storage, error) {
	empty, err := t.footprint(ctx)
	if err != nil {
		return nil, err
	}
	s := &storage{sessions: cfg.sessions}
	start := time.Now()
	if s.tokens, err = startSessions(ctx, t.auth(), cfg.sessions, cfg.loadClients); err != nil {
		return nil, err
	}
	took := time.Since(start)
	logf("%s: %d sessions started in %v", t.name(), cfg.sessions, took.Round(time.Millisecond))
	add := func(rotations int, took time.Duration) error {
		f, err := t.footprint(ctx)
		if err != nil {
			return err
		}
		p := storagePoint{rotations: rotations, total: f.minus(empty), took: took}
		logf("%s: %d rotations per session: %.0f B per session", t.name(), rotations, s.perSession(p.total.used))
		s.points = append(s.points, p)
		return nil
	}
	if err := add(0, took); err != nil {
		return nil, err
	}
	done := 0
	for _, n := range cfg.rotations {
		start := time.Now()
		for ; done < n; done++ {
			if err := rotateAll(ctx, t.auth(), s.tokens, cfg.loadClients); err != nil {
				return nil, fmt.Errorf("%s: rotation %d: %w", t.name(), done+1, err)
			}
		}
		if err := add(n, time.Since(start)); err != nil {
			return nil, err
		}
	}
	return s, nil
}
