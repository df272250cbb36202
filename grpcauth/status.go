package grpcauth

import (
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/jwtkit/auth"
)

// Domain is the domain of the errdetails.ErrorInfo that every refusal of an
// [Interceptor] carries in its status details; its Reason is the stable code.
const Domain = "jwtkit.auth"

// CodeUnlistedMethod is the reason of a call refused with
// [ErrUnlistedMethod]. Every other reason is the code [auth.ErrorCode] gives.
const CodeUnlistedMethod = "UNLISTED_METHOD"

// sentences are the human part of status messages, by code. They never say
// more than the code and never hold the token.
var sentences = map[string]string{
	"NO_TOKEN":           "authentication required",
	"INVALID_TOKEN":      "invalid access token",
	"TOKEN_EXPIRED":      "access token expired",
	"TOKEN_REVOKED":      "access token revoked",
	"INSUFFICIENT_ROLE":  "insufficient role",
	"INSUFFICIENT_SCOPE": "insufficient scope",
	"UNAVAILABLE":        "service temporarily unavailable, retry later",
	CodeUnlistedMethod:   "method not allowed by the policy",
}

// StatusCode returns the gRPC code of a refusal err, as the HTTP middleware
// maps it to a status: codes.Unauthenticated for [auth.ErrNoToken] and
// [auth.ErrInvalidToken] (expired and revoked tokens included),
// codes.PermissionDenied for [auth.ErrForbidden] (a role or scope missing,
// an unlisted method), codes.Unavailable for [auth.ErrUnavailable] (the
// revocation check or the key source failed: the token was not judged), and
// codes.Internal for anything else.
func StatusCode(err error) codes.Code {
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		return codes.Unavailable
	case errors.Is(err, auth.ErrForbidden):
		return codes.PermissionDenied
	case errors.Is(err, auth.ErrNoToken), errors.Is(err, auth.ErrInvalidToken):
		return codes.Unauthenticated
	}
	return codes.Internal
}

// reason returns the stable code of a refusal err.
func reason(err error) string {
	if isUnlisted(err) {
		return CodeUnlistedMethod
	}
	return auth.ErrorCode(err)
}

// statusError returns the status error of a refusal: the code of
// [StatusCode], the message "CODE: sentence" and an errdetails.ErrorInfo
// with the code as Reason and [Domain].
func statusError(err error) error {
	code := reason(err)
	msg := sentences[code]
	if msg == "" {
		msg = "request refused"
	}
	st := status.New(StatusCode(err), code+": "+msg)
	if ds, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: code, Domain: Domain}); derr == nil {
		st = ds
	}
	return st.Err()
}

// Code returns the stable code (NO_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED,
// TOKEN_REVOKED, INSUFFICIENT_ROLE, INSUFFICIENT_SCOPE, UNAVAILABLE,
// UNLISTED_METHOD, ...) that an [Interceptor] put in the details of the
// status of err, as a client receives it from a call; "" when err is not a
// status or carries no errdetails.ErrorInfo of [Domain]. A client that sees
// TOKEN_EXPIRED refreshes its token and calls again.
func Code(err error) string {
	st, ok := status.FromError(err)
	if !ok || st == nil {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == Domain {
			return info.GetReason()
		}
	}
	return ""
}
