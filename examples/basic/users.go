package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jwtkit/auth"
)

// user is an account. The password hash never leaves the server: it has no
// JSON name.
type user struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	hash  []byte
}

var errEmailTaken = errors.New("email taken")

// users is the in-memory account store. It is the server's
// auth.CredentialStore.
type users struct {
	mu      sync.RWMutex // guards byEmail and byID
	byEmail map[string]*user
	byID    map[string]*user
}

func newUsers() *users {
	return &users{byEmail: map[string]*user{}, byID: map[string]*user{}}
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func (u *users) add(x *user) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.byEmail[x.Email]; ok {
		return errEmailTaken
	}
	u.byEmail[x.Email], u.byID[x.ID] = x, x
	return nil
}

// get returns a copy of the user with id.
func (u *users) get(id string) (user, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	x, ok := u.byID[id]
	if !ok {
		return user{}, false
	}
	return *x, true
}

func (u *users) delete(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok := u.byID[id]
	if ok {
		delete(u.byID, id)
		delete(u.byEmail, x.Email)
	}
	return ok
}

// Credentials implements auth.CredentialStore.
func (u *users) Credentials(_ context.Context, login string) (auth.Credentials, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	x, ok := u.byEmail[normalizeEmail(login)]
	if !ok {
		return auth.Credentials{}, auth.ErrUserNotFound
	}
	return auth.Credentials{UserID: x.ID, Hash: x.hash, Claims: claimsOf(x)}, nil
}

// SetPasswordHash implements auth.CredentialStore.
func (u *users) SetPasswordHash(_ context.Context, userID string, hash []byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x, ok := u.byID[userID]; ok {
		x.hash = hash
	}
	return nil
}

// loadClaims is the auth.ClaimsLoader: a role change or a deleted account
// takes effect at the next refresh.
func (u *users) loadClaims(_ context.Context, userID string) (auth.Claims, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	x, ok := u.byID[userID]
	if !ok {
		return auth.Claims{}, auth.ErrUserNotFound
	}
	return claimsOf(x), nil
}

func claimsOf(x *user) auth.Claims {
	return auth.Claims{Subject: x.ID, Role: x.Role, Email: x.Email}
}
