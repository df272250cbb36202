package memstore

import (
	"errors"
	"testing"
	"time"
)

// New and NewThrottle apply every option, keep the documented defaults,
// and refuse an option out of range with an error matching errConfig.
func TestOptions(t *testing.T) {
	t.Parallel()
	if DefaultMaxSessionsPerUser != 100 || DefaultThrottleKeys != 100_000 {
		t.Errorf("DefaultMaxSessionsPerUser, DefaultThrottleKeys = %d, %d; want 100, 100000, as documented",
			DefaultMaxSessionsPerUser, DefaultThrottleKeys)
	}
	clock := func() time.Time { return memNow }
	for _, tt := range []struct {
		name    string
		opts    []Option
		ok      bool
		perUser int // of the Store, when ok
		maxKeys int // of the Throttle, when ok
	}{
		{"defaults", nil, true, DefaultMaxSessionsPerUser, DefaultThrottleKeys},
		{"10 sessions", []Option{WithMaxSessionsPerUser(10)}, true, 10, DefaultThrottleKeys},
		{"1000 sessions", []Option{WithMaxSessionsPerUser(1000)}, true, 1000, DefaultThrottleKeys},
		{"1 key", []Option{WithMaxKeys(1)}, true, DefaultMaxSessionsPerUser, 1},
		{"clock", []Option{WithClock(clock)}, true, DefaultMaxSessionsPerUser, DefaultThrottleKeys},
		{"9 sessions", []Option{WithMaxSessionsPerUser(9)}, false, 0, 0},
		{"0 sessions", []Option{WithMaxSessionsPerUser(0)}, false, 0, 0},
		{"negative sessions", []Option{WithMaxSessionsPerUser(-1)}, false, 0, 0},
		{"0 keys", []Option{WithMaxKeys(0)}, false, 0, 0},
		{"nil clock", []Option{WithClock(nil)}, false, 0, 0},
		{"nil option", []Option{nil}, false, 0, 0},
		{"a bad option after a good one", []Option{WithMaxKeys(5), WithMaxSessionsPerUser(3)}, false, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts...)
			th, terr := NewThrottle(testRate, tt.opts...)
			if !tt.ok {
				if s != nil || !errors.Is(err, errConfig) {
					t.Errorf("New(%s) = %v, %v; want nil, an error matching errConfig", tt.name, s, err)
				}
				if th != nil || !errors.Is(terr, errConfig) {
					t.Errorf("NewThrottle(%s) = %v, %v; want nil, an error matching errConfig", tt.name, th, terr)
				}
				return
			}
			if err != nil || terr != nil {
				t.Fatalf("New(%s), NewThrottle(%s) = %v, %v; want nil, nil", tt.name, tt.name, err, terr)
			}
			if s.maxPerUser != tt.perUser {
				t.Errorf("New(%s).maxPerUser = %d; want %d", tt.name, s.maxPerUser, tt.perUser)
			}
			if th.maxKeys != tt.maxKeys {
				t.Errorf("NewThrottle(%s).maxKeys = %d; want %d", tt.name, th.maxKeys, tt.maxKeys)
			}
		})
	}
}
