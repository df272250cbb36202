package main

import (
	"container/list"
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter gives each subject a token bucket of its own (rate.Limiter) and
// remembers at most max subjects. It needs no goroutine: each call to Allow
// first forgets the subjects idle long enough for their bucket to be full
// again, which loses nothing, since a new bucket starts full too. When the
// table is still full, the subject seen least recently is forgotten: it
// starts again with a full burst.
type limiter struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration // time for an empty bucket to refill
	now   func() time.Time

	mu     sync.Mutex               // guards byName and recent
	byName map[string]*list.Element // of *subjectBucket
	recent list.List                // most recently seen first
}

// subjectBucket is the bucket of one subject.
type subjectBucket struct {
	subject  string
	lim      *rate.Limiter
	lastSeen time.Time
}

// newLimiter returns a limiter of limit requests per second with a burst of
// burst, for at most max subjects, on the clock now.
func newLimiter(limit rate.Limit, burst, max int, now func() time.Time) (*limiter, error) {
	switch {
	case !(limit > 0) || limit == rate.Inf:
		return nil, errors.New("GATEWAY_RATE: the rate must be positive and finite")
	case burst < 1:
		return nil, errors.New("GATEWAY_BURST: must be at least 1")
	case max < 1:
		return nil, errors.New("GATEWAY_MAX_SUBJECTS: must be at least 1")
	}
	idle := time.Duration(math.Ceil(float64(burst) / float64(limit) * float64(time.Second)))
	return &limiter{limit: limit, burst: burst, max: max, idle: idle, now: now, byName: make(map[string]*list.Element)}, nil
}

// Allow takes one request from subject's budget. When the budget is spent
// it takes nothing and returns false with the wait until the next request
// would be allowed.
func (l *limiter) Allow(subject string) (wait time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetIdle(now)
	var b *subjectBucket
	if e, found := l.byName[subject]; found {
		b = e.Value.(*subjectBucket)
		l.recent.MoveToFront(e)
	} else {
		if len(l.byName) >= l.max {
			l.remove(l.recent.Back())
		}
		b = &subjectBucket{subject: subject, lim: rate.NewLimiter(l.limit, l.burst)}
		l.byName[subject] = l.recent.PushFront(b)
	}
	b.lastSeen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// Len returns how many subjects the limiter remembers.
func (l *limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byName)
}

// forgetIdle removes, from the least recently seen, the subjects not seen
// for l.idle: their buckets are full again. Each subject is removed once,
// so the work is constant per call on average.
func (l *limiter) forgetIdle(now time.Time) {
	for e := l.recent.Back(); e != nil; e = l.recent.Back() {
		if now.Sub(e.Value.(*subjectBucket).lastSeen) < l.idle {
			return
		}
		l.remove(e)
	}
}

func (l *limiter) remove(e *list.Element) {
	delete(l.byName, e.Value.(*subjectBucket).subject)
	l.recent.Remove(e)
}
