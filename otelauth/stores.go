package otelauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtkit/auth/authstore"
)

// The attributes of store spans. None holds a token, a token hash, a
// throttle key (a digest of a login name, or a client address) or key
// material.
const (
	keyFound      = attribute.Key("authstore.found")
	keySwapped    = attribute.Key("authstore.swapped")
	keyCount      = attribute.Key("authstore.count")
	keyRevoked    = attribute.Key("authstore.revoked")
	keyThrottled  = attribute.Key("authstore.throttled")
	keyPurpose    = attribute.Key("authstore.purpose")
	keyAdded      = attribute.Key("authstore.added")
	keyGeneration = attribute.Key("authstore.generation")
)

// The store wrappers trace each call of a store as a span, named after
// the contract and the method ("authstore.RefreshStore.Lookup", ...), a
// child of the call's context: within [auth.Auth.Login] and
// [auth.Auth.Refresh] that is their span (see [Telemetry.Observer]). A
// failed call gets an error status and error.type, the Go type of the
// innermost error ("context.DeadlineExceeded" and "context.Canceled" by
// name, "_OTHER" for a plain errors.New); its message only with
// [WithErrorMessages]. The user and session ids of a call are on its span
// only with [WithUserIDs]. Each wrapper passes every call through
// unchanged and returns nil for a nil store.
//
// [auth.Auth.Purge] purges the refresh store and, when it is another
// value, the revocation store: two wrappers of one store are two values,
// so that store gets a second pass, which finds nothing to delete.

// WrapRefreshStore returns s with its calls traced: give it to
// [auth.WithRefreshStore].
func (t *Telemetry) WrapRefreshStore(s authstore.RefreshStore) authstore.RefreshStore {
	if s == nil {
		return nil
	}
	return &refreshStore{t: t, s: s}
}

// WrapRevocationStore returns s with its calls traced: give it to
// [auth.WithRevocation]. Its Revoked, which every verification calls, is
// traced only with [WithVerifySpans].
func (t *Telemetry) WrapRevocationStore(s authstore.RevocationStore) authstore.RevocationStore {
	if s == nil {
		return nil
	}
	return &revocationStore{revocationChecker{t: t, c: s}, s}
}

// WrapRevocationChecker returns c, a revocation check that cannot record
// revocations, with Revoked traced as by [Telemetry.WrapRevocationStore].
func (t *Telemetry) WrapRevocationChecker(c authstore.RevocationChecker) authstore.RevocationChecker {
	if c == nil {
		return nil
	}
	return &revocationChecker{t: t, c: c}
}

// WrapThrottle returns th with its calls traced: give it to
// [auth.WithLoginThrottle] or account.WithThrottle. The spans say
// whether the call throttled (authstore.throttled), never the key.
func (t *Telemetry) WrapThrottle(th authstore.Throttle) authstore.Throttle {
	if th == nil {
		return nil
	}
	return &throttle{t: t, th: th}
}

// WrapOneTimeStore returns s with its calls traced: give it to
// account.WithStore.
func (t *Telemetry) WrapOneTimeStore(s authstore.OneTimeStore) authstore.OneTimeStore {
	if s == nil {
		return nil
	}
	return &oneTimeStore{t: t, s: s}
}

// WrapKeyStore returns s with its calls traced: give it to
// keyrotation.New. The spans hold the key generation and id (a kid is
// public), never the sealed key. The rotation reads the store at every
// poll, each read a root span of its own (authstore.KeyStore.Keys).
func (t *Telemetry) WrapKeyStore(s authstore.KeyStore) authstore.KeyStore {
	if s == nil {
		return nil
	}
	return &keyStore{t: t, s: s}
}

// start starts the span of a store call.
func (t *Telemetry) start(ctx context.Context, name string) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name)
}

// ids puts the user and session ids on span, with [WithUserIDs].
func (t *Telemetry) ids(span trace.Span, userID, sessionID string) {
	if t.userIDs && span.IsRecording() {
		if attrs := userAttrs(userID, sessionID); len(attrs) > 0 {
			span.SetAttributes(attrs...)
		}
	}
}

// end records err, if any, on span and ends it.
func (t *Telemetry) end(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		typ := errorType(err)
		span.SetAttributes(KeyErrorType.String(typ))
		if t.errorMessages {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		} else {
			span.SetStatus(codes.Error, typ)
		}
	}
	span.End()
}

// errorType names the class of a store's error without its message: the
// context errors by name, else the Go type of the innermost error (the
// first of a joined error), or "_OTHER" for an [errors.New] string.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if es := u.Unwrap(); len(es) > 0 {
				next = es[0]
			}
		}
		if next == nil {
			break
		}
		err = next
	}
	if typ := fmt.Sprintf("%T", err); typ != "*errors.errorString" {
		return typ
	}
	return "_OTHER"
}

type refreshStore struct {
	t *Telemetry
	s authstore.RefreshStore
}

func (w *refreshStore) CreateSession(ctx context.Context, sess authstore.Session, rec authstore.RefreshRecord) error {
	ctx, span := w.t.start(ctx, "authstore.RefreshStore.CreateSession")
	w.t.ids(span, sess.UserID, sess.ID)
	err := w.s.CreateSession(ctx, sess, rec)
	w.t.end(span, err)
	return err
}

func (w *refreshStore) Lookup(ctx context.Context, route string, h authstore.TokenHash) (authstore.RefreshRecord, authstore.Session, bool, error) {
	ctx, span := w.t.start(ctx, "authstore.RefreshStore.Lookup")
	rec, sess, found, err := w.s.Lookup(ctx, route, h)
	if err == nil {
		span.SetAttributes(keyFound.Bool(found))
		if found {
			w.t.ids(span, rec.UserID, rec.SessionID)
		}
	}
	w.t.end(span, err)
	return rec, sess, found, err
}

func (w *refreshStore) Rotate(ctx context.Context, route string, old, expect authstore.TokenHash, next authstore.RefreshRecord) (bool, error) {
	ctx, span := w.t.start(ctx, "authstore.RefreshStore.Rotate")
	w.t.ids(span, next.UserID, next.SessionID)
	swapped, err := w.s.Rotate(ctx, route, old, expect, next)
	if err == nil {
		span.SetAttributes(keySwapped.Bool(swapped))
	}
	w.t.end(span, err)
	return swapped, err
}

func (w *refreshStore) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) (bool, error) {
	ctx, span := w.t.start(ctx, "authstore.RefreshStore.RevokeSession")
	w.t.ids(span, userID, sessionID)
	found, err := w.s.RevokeSession(ctx, userID, sessionID, at)
	if err == nil {
		span.SetAttributes(keyFound.Bool(found))
	}
	w.t.end(span, err)
	return found, err
}

func (w *refreshStore) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	ctx, span := w.t.start(ctx, "authstore.RefreshStore.RevokeUser")
	w.t.ids(span, userID, "")
	n, err := w.s.RevokeUser(ctx, userID, at)
	if err == nil {
		span.SetAttributes(keyCount.Int(n))
	}
	w.t.end(span, err)
	return n, err
}

func (w *refreshStore) Sessions(ctx context.Context, userID string, now time.Time) ([]authstore.Session, error) {
	ctx, span := w.t.start(ctx, "authstore.RefreshStore.Sessions")
	w.t.ids(span, userID, "")
	list, err := w.s.Sessions(ctx, userID, now)
	if err == nil {
		span.SetAttributes(keyCount.Int(len(list)))
	}
	w.t.end(span, err)
	return list, err
}

func (w *refreshStore) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	ctx, span := w.t.start(ctx, "authstore.RefreshStore.Purge")
	n, err := w.s.Purge(ctx, now, limit)
	if err == nil {
		span.SetAttributes(keyCount.Int(n))
	}
	w.t.end(span, err)
	return n, err
}

type revocationChecker struct {
	t *Telemetry
	c authstore.RevocationChecker
}

func (w *revocationChecker) Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error) {
	if !w.t.traceVerify {
		return w.c.Revoked(ctx, userID, sessionID, tokenID, issuedAt)
	}
	ctx, span := w.t.start(ctx, "authstore.RevocationChecker.Revoked")
	w.t.ids(span, userID, sessionID)
	revoked, err := w.c.Revoked(ctx, userID, sessionID, tokenID, issuedAt)
	if err == nil {
		span.SetAttributes(keyRevoked.Bool(revoked))
	}
	w.t.end(span, err)
	return revoked, err
}

type revocationStore struct {
	revocationChecker
	s authstore.RevocationStore
}

func (w *revocationStore) Deny(ctx context.Context, userID, id string, until time.Time) error {
	ctx, span := w.t.start(ctx, "authstore.RevocationStore.Deny")
	w.t.ids(span, userID, "")
	err := w.s.Deny(ctx, userID, id, until)
	w.t.end(span, err)
	return err
}

func (w *revocationStore) CutOff(ctx context.Context, userID string, at time.Time) error {
	ctx, span := w.t.start(ctx, "authstore.RevocationStore.CutOff")
	w.t.ids(span, userID, "")
	err := w.s.CutOff(ctx, userID, at)
	w.t.end(span, err)
	return err
}

func (w *revocationStore) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	ctx, span := w.t.start(ctx, "authstore.RevocationStore.Purge")
	n, err := w.s.Purge(ctx, now, limit)
	if err == nil {
		span.SetAttributes(keyCount.Int(n))
	}
	w.t.end(span, err)
	return n, err
}

type throttle struct {
	t  *Telemetry
	th authstore.Throttle
}

func (w *throttle) wait(ctx context.Context, name string, f func(context.Context, string, time.Time) (time.Duration, error), key string, now time.Time) (time.Duration, error) {
	ctx, span := w.t.start(ctx, name)
	wait, err := f(ctx, key, now)
	if err == nil {
		span.SetAttributes(keyThrottled.Bool(wait > 0))
	}
	w.t.end(span, err)
	return wait, err
}

func (w *throttle) Check(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	return w.wait(ctx, "authstore.Throttle.Check", w.th.Check, key, now)
}

func (w *throttle) Take(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	return w.wait(ctx, "authstore.Throttle.Take", w.th.Take, key, now)
}

func (w *throttle) Fail(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	return w.wait(ctx, "authstore.Throttle.Fail", w.th.Fail, key, now)
}

func (w *throttle) Refund(ctx context.Context, key string, now time.Time) error {
	ctx, span := w.t.start(ctx, "authstore.Throttle.Refund")
	err := w.th.Refund(ctx, key, now)
	w.t.end(span, err)
	return err
}

func (w *throttle) Reset(ctx context.Context, key string) error {
	ctx, span := w.t.start(ctx, "authstore.Throttle.Reset")
	err := w.th.Reset(ctx, key)
	w.t.end(span, err)
	return err
}

type oneTimeStore struct {
	t *Telemetry
	s authstore.OneTimeStore
}

func (w *oneTimeStore) SaveOneTime(ctx context.Context, tok authstore.OneTimeToken) error {
	ctx, span := w.t.start(ctx, "authstore.OneTimeStore.SaveOneTime")
	span.SetAttributes(keyPurpose.String(tok.Purpose))
	w.t.ids(span, tok.UserID, "")
	err := w.s.SaveOneTime(ctx, tok)
	w.t.end(span, err)
	return err
}

func (w *oneTimeStore) ConsumeOneTime(ctx context.Context, route string, h authstore.TokenHash, purpose string, now time.Time) (authstore.OneTimeToken, bool, error) {
	ctx, span := w.t.start(ctx, "authstore.OneTimeStore.ConsumeOneTime")
	span.SetAttributes(keyPurpose.String(purpose))
	tok, found, err := w.s.ConsumeOneTime(ctx, route, h, purpose, now)
	if err == nil {
		span.SetAttributes(keyFound.Bool(found))
		if found {
			w.t.ids(span, tok.UserID, "")
		}
	}
	w.t.end(span, err)
	return tok, found, err
}

func (w *oneTimeStore) RevokeOneTime(ctx context.Context, userID, purpose string) (int, error) {
	ctx, span := w.t.start(ctx, "authstore.OneTimeStore.RevokeOneTime")
	span.SetAttributes(keyPurpose.String(purpose))
	w.t.ids(span, userID, "")
	n, err := w.s.RevokeOneTime(ctx, userID, purpose)
	if err == nil {
		span.SetAttributes(keyCount.Int(n))
	}
	w.t.end(span, err)
	return n, err
}

type keyStore struct {
	t *Telemetry
	s authstore.KeyStore
}

func (w *keyStore) AddKey(ctx context.Context, rec authstore.KeyRecord) (bool, error) {
	ctx, span := w.t.start(ctx, "authstore.KeyStore.AddKey")
	span.SetAttributes(keyGeneration.Int64(rec.Generation), KeyKeyID.String(rec.ID))
	added, err := w.s.AddKey(ctx, rec)
	if err == nil {
		span.SetAttributes(keyAdded.Bool(added))
	}
	w.t.end(span, err)
	return added, err
}

func (w *keyStore) Keys(ctx context.Context) ([]authstore.KeyRecord, error) {
	ctx, span := w.t.start(ctx, "authstore.KeyStore.Keys")
	keys, err := w.s.Keys(ctx)
	if err == nil {
		span.SetAttributes(keyCount.Int(len(keys)))
	}
	w.t.end(span, err)
	return keys, err
}

func (w *keyStore) DeleteKeys(ctx context.Context, generation int64) (int, error) {
	ctx, span := w.t.start(ctx, "authstore.KeyStore.DeleteKeys")
	span.SetAttributes(keyGeneration.Int64(generation))
	n, err := w.s.DeleteKeys(ctx, generation)
	if err == nil {
		span.SetAttributes(keyCount.Int(n))
	}
	w.t.end(span, err)
	return n, err
}
