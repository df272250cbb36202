package client

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/internal/testclock"
)

func TestErrorOf(t *testing.T) {
	t.Parallel()
	now := testclock.Instant
	tests := []struct {
		name       string
		status     int
		body       string
		retryAfter string
		want       Error
		wantIs     error // nil: none
	}{
		{"unavailable", 503, `{"error":"down","code":"UNAVAILABLE"}`, "5",
			Error{StatusCode: 503, Code: "UNAVAILABLE", Message: "down", RetryAfter: 5 * time.Second}, auth.ErrUnavailable},
		{"throttled, date", 429, `{"error":"slow down","code":"TOO_MANY_ATTEMPTS"}`, now.Add(time.Minute).Format(http.TimeFormat),
			Error{StatusCode: 429, Code: "TOO_MANY_ATTEMPTS", Message: "slow down", RetryAfter: time.Minute}, auth.ErrTooManyAttempts},
		{"expired", 401, `{"error":"x","code":"TOKEN_EXPIRED"}`, "",
			Error{StatusCode: 401, Code: "TOKEN_EXPIRED", Message: "x"}, auth.ErrTokenExpired},
		{"refresh refused", 401, `{"error":"x","code":"INVALID_REFRESH_TOKEN"}`, "",
			Error{StatusCode: 401, Code: "INVALID_REFRESH_TOKEN", Message: "x"}, auth.ErrInvalidRefreshToken},
		{"role", 403, `{"error":"x","code":"INSUFFICIENT_ROLE"}`, "",
			Error{StatusCode: 403, Code: "INSUFFICIENT_ROLE", Message: "x"}, auth.ErrForbidden},
		{"unknown code", 409, `{"error":"taken","code":"EMAIL_TAKEN"}`, "",
			Error{StatusCode: 409, Code: "EMAIL_TAKEN", Message: "taken"}, nil},
		{"not JSON", 502, `<html>bad gateway</html>`, "soon",
			Error{StatusCode: 502}, nil},
		{"past date", 503, ``, now.Add(-time.Minute).Format(http.TimeFormat),
			Error{StatusCode: 503}, nil},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
		if tt.retryAfter != "" {
			resp.Header.Set("Retry-After", tt.retryAfter)
		}
		got := errorOf(resp, []byte(tt.body), now)
		if *got != tt.want {
			t.Errorf("%s: errorOf = %+v; want %+v", tt.name, *got, tt.want)
		}
		if tt.wantIs != nil && !errors.Is(got, tt.wantIs) {
			t.Errorf("%s: errorOf = %v; want it to match %v", tt.name, got, tt.wantIs)
		}
		if tt.wantIs == nil && got.Unwrap() != nil {
			t.Errorf("%s: Unwrap = %v; want nil", tt.name, got.Unwrap())
		}
		if errors.Is(got, ErrSignedOut) {
			t.Errorf("%s: errorOf = %v; want it not to match ErrSignedOut", tt.name, got)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&Error{StatusCode: 503, Code: "UNAVAILABLE", Message: "down", RetryAfter: 5 * time.Second},
			"server answered 503 UNAVAILABLE: down (retry after 5s)"},
		{&Error{StatusCode: 502}, "server answered 502 Bad Gateway"},
		{signedOut(&Error{StatusCode: 401, Code: "INVALID_REFRESH_TOKEN", Message: "invalid refresh token"}),
			"client: signed out: the server refused the refresh token: server answered 401 INVALID_REFRESH_TOKEN: invalid refresh token"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
}
