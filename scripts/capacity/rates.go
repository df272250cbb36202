package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// ratePoint is one throughput point: rotations through Auth.Refresh and,
// right after, the bare write, both at the same concurrency.
type ratePoint struct {
	clients  int
	run      int     // 1, 2, ...
	refresh  float64 // Auth.Refresh per second
	baseline float64 // bare writes per second
}

// measureRates runs every throughput point cfg.runs times. The rotations
// go through Auth.Refresh on the sessions that measureStorage started,
// worker w of c refreshing sessions w, w+c, w+2c, ... in turn, so that no
// two workers share a session, as distinct users do not.
func measureRates(ctx context.Context, cfg config, t target, tokens []string, logf func(string, ...any)) ([]ratePoint, error) {
	a := t.auth()
	var out []ratePoint
	for _, c := range cfg.clients {
		base, err := t.baseline(ctx, c)
		if err != nil {
			return nil, err
		}
		for r := 1; r <= cfg.runs; r++ {
			next := make([]int, c) // worker w's next session
			for w := range next {
				next[w] = w
			}
			refresh, err := rate(ctx, c, cfg.duration, cfg.maxOps, func(ctx context.Context, w int) error {
				i := next[w]
				if next[w] += c; next[w] >= len(tokens) {
					next[w] = w
				}
				return refresh(ctx, a, tokens, i)
			})
			if err != nil {
				return nil, err
			}
			bare, err := rate(ctx, c, cfg.duration, cfg.maxOps, base)
			if err != nil {
				return nil, err
			}
			logf("%s: %d clients, run %d: %.0f refreshes/s, %.0f bare writes/s", t.name(), c, r, refresh, bare)
			out = append(out, ratePoint{clients: c, run: r, refresh: refresh, baseline: bare})
		}
	}
	return out, nil
}

// rate runs op on clients workers until d has passed or maxOps operations
// are done, and returns the operations per second. The first error stops
// every worker and is returned.
func rate(ctx context.Context, clients int, d time.Duration, maxOps int64, op func(ctx context.Context, worker int) error) (float64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		ops atomic.Int64
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range clients {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && ops.Load() < maxOps {
				if err := op(ctx, w); err != nil {
					cancel(err)
					return
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return float64(ops.Load()) / time.Since(start).Seconds(), nil
}
