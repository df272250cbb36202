package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/redisstore"
)

func TestNewValidates(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, tt := range []struct {
		name string
		c    redis.UniversalClient
		opts []redisstore.Option
	}{
		{"nil client", nil, nil},
		{"brace in prefix", c, []redisstore.Option{redisstore.WithKeyPrefix("auth:{x}:")}},
		{"open brace in prefix", c, []redisstore.Option{redisstore.WithKeyPrefix("auth{")}},
		{"no family per user", c, []redisstore.Option{redisstore.WithMaxFamiliesPerUser(0)}},
		{"negative margin", c, []redisstore.Option{redisstore.WithExpiryMargin(-time.Second)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := redisstore.New(tt.c, tt.opts...); !errors.Is(err, auth.ErrConfig) {
				t.Errorf("New = %v; want ErrConfig", err)
			}
		})
	}
	if _, err := redisstore.New(c, redisstore.WithKeyPrefix(""), redisstore.WithExpiryMargin(0)); err != nil {
		t.Errorf("New(empty prefix, zero margin) = %v; want nil", err)
	}
	for _, rate := range []auth.Rate{{}, {Limit: 0, Window: time.Minute}, {Limit: 1}, {Limit: 1001, Window: time.Millisecond}} {
		if _, err := redisstore.NewThrottle(c, rate); !errors.Is(err, auth.ErrConfig) {
			t.Errorf("NewThrottle(%+v) = %v; want ErrConfig", rate, err)
		}
	}
	if _, err := redisstore.NewThrottle(nil, auth.DefaultLoginRate); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("NewThrottle(nil client) = %v; want ErrConfig", err)
	}
	if _, err := redisstore.NewThrottle(c, auth.DefaultLoginRate, redisstore.WithKeyPrefix("{")); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("NewThrottle(brace in prefix) = %v; want ErrConfig", err)
	}
}
