package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth/password"
)

// attackerAddr returns the i-th of many client addresses, none of which
// fails often enough to be throttled by address.
func attackerAddr(i int) string {
	return netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}).String()
}

// TestLoginDeviceOutlastsAttack: an attacker who spends the account's
// budget for unknown clients from many addresses does not stop the owner's
// known device, and the owner's device that guesses wrong is throttled on
// its own.
func TestLoginDeviceOutlastsAttack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _ := newLoginEnv(t, password.MinCost) // 3 failures per minute
	owner := Client{Address: "192.0.2.10"}
	first, err := e.a.Login(ctx, "ada@example.com", "correct horse", owner)
	if err != nil {
		t.Fatalf("first Login = %v", err)
	}
	if first.DeviceToken == "" || !first.DeviceExpiresAt.After(e.clock.Now()) {
		t.Fatalf("first Login: device token %q until %v; want one valid from now on", first.DeviceToken, first.DeviceExpiresAt)
	}
	owner.Device = first.DeviceToken

	// The attack: guesses from 20 addresses, one each. The first three
	// spend the account's budget; every later one is throttled.
	throttled := 0
	for i := range 20 {
		_, err := e.a.Login(ctx, "ada@example.com", "guess", Client{Address: attackerAddr(i)})
		switch {
		case errors.Is(err, ErrTooManyAttempts):
			throttled++
		case !errors.Is(err, ErrInvalidCredentials):
			t.Fatalf("attack guess %d = %v", i, err)
		}
	}
	if throttled != 17 {
		t.Errorf("attack: %d of 20 guesses throttled; want 17 (the account's budget is 3)", throttled)
	}
	// A client without the device token is locked out as before.
	if _, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "192.0.2.11"}); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("Login of an unknown client after the attack = %v; want ErrTooManyAttempts", err)
	}
	// The owner's device still signs in, and gets a renewed device token.
	second, err := e.a.Login(ctx, "ada@example.com", "correct horse", owner)
	if err != nil {
		t.Fatalf("Login of the owner's device after the attack = %v; want success", err)
	}
	if second.DeviceToken == "" || second.DeviceToken == first.DeviceToken {
		t.Errorf("owner's second Login: device token unchanged or empty; want a new one")
	}

	// The owner's device mistypes: it has a budget of its own, which runs
	// out like any other.
	owner.Device = second.DeviceToken
	for i := range 3 {
		if _, err := e.a.Login(ctx, "ada@example.com", "typo", owner); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("owner's typo %d = %v; want ErrInvalidCredentials", i, err)
		}
	}
	_, err = e.a.Login(ctx, "ada@example.com", "correct horse", owner)
	if !errors.Is(err, ErrTooManyAttempts) || RetryAfter(err) <= 0 {
		t.Fatalf("owner's Login after 3 typos = %v; want ErrTooManyAttempts with a wait", err)
	}
	// Another device of the owner is not held back by the first one's
	// typos once the account's own budget has recovered.
	e.clock.Advance(time.Minute)
	other, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "192.0.2.12"})
	if err != nil {
		t.Fatalf("Login of another client after the window = %v; want success", err)
	}
	if other.DeviceToken == "" {
		t.Error("Login without a device token: no device token handed out")
	}
}

// TestLoginDeviceTokenChecks: a device token only counts for the account
// it was issued for, unexpired, unaltered, and never as an access token;
// an access token never counts as a device token.
func TestLoginDeviceTokenChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, acc := newLoginEnv(t, password.MinCost)
	acc.users["bob@example.com"] = Credentials{UserID: "bob", Hash: acc.users["ada@example.com"].Hash, Claims: Claims{Role: "admin"}}
	ada, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Verify(ctx, ada.DeviceToken); !errors.Is(err, ErrTokenHeader) {
		t.Errorf("Verify(device token) = %v; want ErrTokenHeader (typ is not at+jwt)", err)
	}
	tampered := ada.DeviceToken[:len(ada.DeviceToken)-2] + "AA"
	if ada.DeviceToken[len(ada.DeviceToken)-2:] == "AA" {
		tampered = ada.DeviceToken[:len(ada.DeviceToken)-2] + "BB"
	}
	now := e.clock.Now()
	for _, tt := range []struct {
		name, token, account string
		at                   time.Time
	}{
		{"another account", ada.DeviceToken, e.a.accountKey("bob@example.com"), now},
		{"expired", ada.DeviceToken, e.a.accountKey("ada@example.com"), now.Add(deviceTTL)},
		{"tampered", tampered, e.a.accountKey("ada@example.com"), now},
		{"access token", ada.Access.Token, e.a.accountKey("ada@example.com"), now},
		{"garbage", "not.a.token", e.a.accountKey("ada@example.com"), now},
		{"huge", strings.Repeat("a", maxDeviceToken+1), e.a.accountKey("ada@example.com"), now},
	} {
		if id := e.a.deviceID(ctx, tt.token, tt.account, tt.at); id != "" {
			t.Errorf("deviceID(%s) = %q; want \"\" (not a known device)", tt.name, id)
		}
	}
	if id := e.a.deviceID(ctx, ada.DeviceToken, e.a.accountKey(" ADA@example.com "), now); id == "" {
		t.Error("deviceID(own token, own account in another case) = \"\"; want the device id")
	}
	// A device token of another account gives no budget of its own: the
	// guesses count against bob's account budget.
	for range 3 {
		_, _ = e.a.Login(ctx, "bob@example.com", "guess", Client{Device: ada.DeviceToken})
	}
	if _, err := e.a.Login(ctx, "bob@example.com", "correct horse", Client{Device: ada.DeviceToken}); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("Login(bob) with ada's device token after 3 failures = %v; want ErrTooManyAttempts", err)
	}
}

// TestWriteTokensDevice: the device token travels like the refresh token:
// an HttpOnly cookie beside the refresh cookie, or "deviceToken" in the
// body; ClientFrom reads the cookie back.
func TestWriteTokensDevice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _ := newLoginEnv(t, password.MinCost)
	tok, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	e.a.WriteTokens(w, http.StatusOK, tok, TransferCookie, nil)
	var device *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == deviceCookieName {
			device = c
		}
	}
	if device == nil || device.Value != tok.DeviceToken || !device.HttpOnly || !device.Secure ||
		device.SameSite != http.SameSiteStrictMode || device.Path != "/api/auth" || device.MaxAge < int((deviceTTL-time.Minute).Seconds()) {
		t.Fatalf("device cookie = %+v; want HttpOnly, Secure, SameSite=Strict, Path=/api/auth, Max-Age about 90 days", device)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/auth/login", nil)
	r.AddCookie(device)
	if got := e.a.ClientFrom(r).Device; got != tok.DeviceToken {
		t.Errorf("ClientFrom(request with the device cookie).Device = %q; want the token", got)
	}

	w = httptest.NewRecorder()
	e.a.WriteTokens(w, http.StatusOK, tok, TransferBody, nil)
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("body transfer set cookies %v; want none", w.Result().Cookies())
	}
	if !strings.Contains(w.Body.String(), `"deviceToken":"`+tok.DeviceToken+`"`) {
		t.Errorf("body transfer body = %s; want deviceToken", w.Body.String())
	}
}

// TestLoginRefusal: an account's Refusal is returned only once the
// password matched.
func TestLoginRefusal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, acc := newLoginEnv(t, password.MinCost)
	refusal := errors.New("account disabled")
	c := acc.users["ada@example.com"]
	c.Refusal = refusal
	acc.users["ada@example.com"] = c
	if _, err := e.a.Login(ctx, "ada@example.com", "wrong horse", Client{}); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login(refused account, wrong password) = %v; want ErrInvalidCredentials", err)
	}
	if tok, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{}); !errors.Is(err, refusal) || tok != nil {
		t.Errorf("Login(refused account, right password) = %v, %v; want the refusal and no tokens", tok, err)
	}
}

// TestLoginDeviceOverHTTP runs the attack of TestLoginDeviceOutlastsAttack
// over real HTTP, through a login handler behind a trusted proxy, with the
// device token in the cookie for a browser and in the body for a
// body-transfer client: 100 guesses from 100 addresses lock out every
// unknown client, and neither of the owner's devices.
func TestLoginDeviceOverHTTP(t *testing.T) {
	t.Parallel()
	e, _ := newLoginEnv(t, password.MinCost, WithTrustedProxies(netip.MustParsePrefix("127.0.0.0/8")), WithRefreshCookie(CookieConfig{Insecure: true}))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email           string `json:"email"`
			Password        string `json:"password"`
			RefreshTransfer string `json:"refreshTransfer"`
			DeviceToken     string `json:"deviceToken"`
		}
		if err := DecodeJSON(w, r, &in); err != nil {
			WriteError(w, r, err)
			return
		}
		transfer, _ := ParseTransfer(in.RefreshTransfer)
		client := e.a.ClientFrom(r)
		if in.DeviceToken != "" {
			client.Device = in.DeviceToken
		}
		tok, err := e.a.Login(r.Context(), in.Email, in.Password, client)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		e.a.WriteTokens(w, http.StatusOK, tok, transfer, nil)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	login := func(from, password, body string, cookie *http.Cookie) *http.Response {
		t.Helper()
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/auth/login",
			strings.NewReader(`{"email":"ada@example.com","password":"`+password+`"`+body+`}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", from)
		if cookie != nil {
			r.AddCookie(cookie)
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// The owner's browser and phone sign in once.
	resp := login("192.0.2.1", "correct horse", "", nil)
	var device *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "deviceToken" {
			device = c
		}
	}
	if resp.StatusCode != http.StatusOK || device == nil {
		t.Fatalf("browser's first login: %d, device cookie %v; want 200 with one", resp.StatusCode, device)
	}
	resp = login("192.0.2.2", "correct horse", `,"refreshTransfer":"body"`, nil)
	var phone struct{ DeviceToken string }
	if err := json.NewDecoder(resp.Body).Decode(&phone); err != nil || resp.StatusCode != http.StatusOK || phone.DeviceToken == "" {
		t.Fatalf("phone's first login: %d, %v, %q; want 200 with a deviceToken", resp.StatusCode, err, phone.DeviceToken)
	}

	codes := map[int]int{}
	for i := range 100 {
		codes[login(attackerAddr(i), "guess", "", nil).StatusCode]++
	}
	if codes[http.StatusUnauthorized] != 3 || codes[http.StatusTooManyRequests] != 97 {
		t.Errorf("100 guesses from 100 addresses answered %v; want 3 × 401 (the account's budget) and 97 × 429", codes)
	}
	if got := login("192.0.2.3", "correct horse", "", nil).StatusCode; got != http.StatusTooManyRequests {
		t.Errorf("unknown client with the right password after the attack: %d; want 429", got)
	}
	if got := login("192.0.2.1", "correct horse", "", device).StatusCode; got != http.StatusOK {
		t.Errorf("owner's browser (device cookie) after the attack: %d; want 200", got)
	}
	if got := login("192.0.2.2", "correct horse", `,"refreshTransfer":"body","deviceToken":"`+phone.DeviceToken+`"`, nil).StatusCode; got != http.StatusOK {
		t.Errorf("owner's phone (deviceToken in the body) after the attack: %d; want 200", got)
	}
}
