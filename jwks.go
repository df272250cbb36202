package auth

import (
	"net/http"
	"strconv"
	"time"
)

// jwksCacheTime is how long [KeySet.ServeHTTP] lets clients cache the JWK
// Set (Cache-Control: max-age): five minutes.
const jwksCacheTime = 5 * time.Minute

// ServeHTTP serves the set's JWK Set document as application/jwk-set+json,
// cacheable for five minutes (Cache-Control: max-age=300): every asymmetric
// key, current and older, with kty, kid, alg and use "sig", and never a
// private member or an HMAC secret. A key added with [KeySet.Add] should
// wait at least those five minutes, plus the verifiers' own refresh margin,
// before [KeySet.Promote], so that every verifier has fetched it. Only GET and HEAD
// are allowed. Under HMAC the set is {"keys":[]}: a shared secret is never
// published.
func (ks *KeySet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSONError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed")
		return
	}
	body := ks.jwks()
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(jwksCacheTime.Seconds())))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
