package redisstore

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
)

// New and NewThrottle refuse every option out of range, before talking to
// Redis, with an error matching errConfig; NewThrottle's error for a rate
// that allows no failure also matches authstore.ErrInvalidRate.
func TestNewValidates(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, tt := range []struct {
		name string
		c    redis.UniversalClient
		opts []Option
	}{
		{"nil client", nil, nil},
		{"brace in prefix", c, []Option{WithKeyPrefix("auth:{x}:")}},
		{"open brace in prefix", c, []Option{WithKeyPrefix("auth{")}},
		{"9 sessions per user", c, []Option{WithMaxSessionsPerUser(9)}},
		{"no session per user", c, []Option{WithMaxSessionsPerUser(0)}},
		{"negative margin", c, []Option{WithExpiryMargin(-time.Second)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := New(tt.c, tt.opts...); s != nil || !errors.Is(err, errConfig) {
				t.Errorf("New(%s) = %v, %v; want nil, an error matching errConfig", tt.name, s, err)
			}
		})
	}
	for _, tt := range []struct {
		name string
		opts []Option
		want int
	}{
		{"defaults", nil, DefaultMaxSessionsPerUser},
		{"10 sessions per user", []Option{WithMaxSessionsPerUser(10)}, 10},
		{"empty prefix, zero margin", []Option{WithKeyPrefix(""), WithExpiryMargin(0)}, DefaultMaxSessionsPerUser},
	} {
		s, err := New(c, tt.opts...)
		if err != nil {
			t.Errorf("New(%s) = %v; want nil", tt.name, err)
			continue
		}
		if s.cfg.maxSessions != tt.want {
			t.Errorf("New(%s): %d sessions per user; want %d", tt.name, s.cfg.maxSessions, tt.want)
		}
	}

	for _, tt := range []struct {
		rate    authstore.Rate
		invalid bool // whether the error also matches authstore.ErrInvalidRate
	}{
		{authstore.Rate{}, true},
		{authstore.Rate{Limit: 0, Window: time.Minute}, true},
		{authstore.Rate{Limit: 1}, true},
		{authstore.Rate{Limit: 1001, Window: time.Millisecond}, false}, // finer than a microsecond
	} {
		_, err := NewThrottle(c, tt.rate)
		if !errors.Is(err, errConfig) || errors.Is(err, authstore.ErrInvalidRate) != tt.invalid {
			t.Errorf("NewThrottle(%+v) = %v; want errConfig (and ErrInvalidRate: %v)", tt.rate, err, tt.invalid)
		}
	}
	rate := authstore.Rate{Limit: 5, Window: 15 * time.Minute}
	if _, err := NewThrottle(nil, rate); !errors.Is(err, errConfig) {
		t.Errorf("NewThrottle(nil client) = %v; want errConfig", err)
	}
	if _, err := NewThrottle(c, rate, WithKeyPrefix("{")); !errors.Is(err, errConfig) {
		t.Errorf("NewThrottle(brace in prefix) = %v; want errConfig", err)
	}
	if _, err := NewThrottle(c, rate); err != nil {
		t.Errorf("NewThrottle(%+v) = %v; want nil", rate, err)
	}
}
