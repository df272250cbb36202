package account

import (
	"encoding/json"
	"net/http"

	"github.com/jwtkit/auth"
)

// ForgotHandler returns the handler of POST /api/auth/password/forgot
// {email} ([Manager.Forgot]): 202 {"message"} for a known and an unknown
// address alike, with the same headers; 400 INVALID_INPUT, 429
// TOO_MANY_ATTEMPTS with Retry-After, 503 UNAVAILABLE. Mount it behind
// auth.Auth.CrossOriginProtection.
func (m *Manager) ForgotHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email string `json:"email"`
		}
		if err := auth.DecodeJSON(w, r, &in); err != nil {
			m.fail(w, r, err)
			return
		}
		if err := m.Forgot(r.Context(), in.Email, m.auth.ClientFrom(r)); err != nil {
			m.fail(w, r, err)
			return
		}
		writeMessage(w, http.StatusAccepted, "if an account has this address, a reset link is on its way")
	})
}

// ResetHandler returns the handler of POST /api/auth/password/reset
// {token, password} ([Manager.Reset]): 200 {"message"}; 400 INVALID_INPUT
// for a password that breaks the rules (the link stays usable), 400
// INVALID_RESET_TOKEN, 503 UNAVAILABLE. Mount it behind
// auth.Auth.CrossOriginProtection.
func (m *Manager) ResetHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Token    string `json:"token"`
			Password string `json:"password"`
		}
		if err := auth.DecodeJSON(w, r, &in); err != nil {
			m.fail(w, r, err)
			return
		}
		if _, err := m.Reset(r.Context(), in.Token, in.Password); err != nil {
			m.fail(w, r, err)
			return
		}
		writeMessage(w, http.StatusOK, "password replaced; every session was signed out")
	})
}

// ChangeHandler returns the handler of POST /api/auth/password/change
// {currentPassword, newPassword} for a bearer ([Manager.ChangePassword];
// it requires the bearer token itself, through auth.Auth.Require): 200
// {accessToken, expiresIn} with the new session's refresh token in the
// refresh cookie, or as "refreshToken" in the body when the request has
// "refreshTransfer": "body"; 401 INVALID_CREDENTIALS, 400 INVALID_INPUT,
// 429 TOO_MANY_ATTEMPTS, 503 UNAVAILABLE, and the bearer failures of
// auth.Auth.Require. Mount it behind auth.Auth.CrossOriginProtection.
func (m *Manager) ChangeHandler() http.Handler {
	return m.auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			CurrentPassword string `json:"currentPassword"`
			NewPassword     string `json:"newPassword"`
			RefreshTransfer string `json:"refreshTransfer"`
		}
		if err := auth.DecodeJSON(w, r, &in); err != nil {
			m.fail(w, r, err)
			return
		}
		transfer, err := auth.ParseTransfer(in.RefreshTransfer)
		if err != nil {
			m.fail(w, r, err)
			return
		}
		c, _ := auth.ClaimsFromContext(r.Context())
		t, err := m.ChangePassword(r.Context(), c, in.CurrentPassword, in.NewPassword, m.auth.ClientFrom(r))
		if err != nil {
			m.fail(w, r, err)
			return
		}
		m.auth.WriteTokens(w, http.StatusOK, t, transfer, nil)
	}))
}

// fail answers err, after logging it once at error level when it is a
// failure of the server (a 5xx), without the request's secrets.
func (m *Manager) fail(w http.ResponseWriter, r *http.Request, err error) {
	if auth.ErrorStatus(err) >= 500 {
		if l := m.cfg.logger; l != nil {
			l.ErrorContext(r.Context(), "account: request failed", "method", r.Method, "path", r.URL.Path, "code", auth.ErrorCode(err), "err", err.Error())
		}
	}
	auth.WriteError(w, r, err)
}

// writeMessage answers {"message": msg}, never cached.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
