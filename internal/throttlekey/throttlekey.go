// Package throttlekey builds the keys under which package auth and package
// account throttle attempts, so that both key a client address and a login
// name the same way.
package throttlekey

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
)

// Login returns prefix followed by a digest of the login name login,
// trimmed and lower-cased, so that " Ada@example.com" counts against the
// same account; a throttle store never holds the name itself.
func Login(prefix, login string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(login))))
	return prefix + hex.EncodeToString(sum[:16])
}

// Address returns prefix followed by addr: an IPv4 address whole, an IPv6
// address as its /64, the block one client usually holds.
func Address(prefix, addr string) string {
	if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() && !ip.Is4In6() {
		if p, err := ip.Prefix(64); err == nil {
			return prefix + p.String()
		}
	}
	return prefix + addr
}
