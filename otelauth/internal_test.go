package otelauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

type customError struct{}

func (customError) Error() string { return "custom" }

func TestErrorType(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "_OTHER"},
		{fmt.Errorf("wrapped: %w", errors.New("plain")), "_OTHER"},
		{fmt.Errorf("sqlstore: lookup: %w", context.DeadlineExceeded), "context.DeadlineExceeded"},
		{fmt.Errorf("x: %w", context.Canceled), "context.Canceled"},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", customError{})), "otelauth.customError"},
		{errors.Join(customError{}, errors.New("second")), "otelauth.customError"},
		{fmt.Errorf("redisstore: %w", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "syscall.Errno"},
		{&net.OpError{Op: "dial"}, "*net.OpError"},
	} {
		if got := errorType(tt.err); got != tt.want {
			t.Errorf("errorType(%v) = %q; want %q", tt.err, got, tt.want)
		}
	}
}
