// Package throttlekey builds the keys under which package auth and package
// account throttle attempts, so that both key a client address and a login
// name the same way.
package throttlekey

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Canonical returns the default canonical form of a login name: trimmed,
// in Unicode normalization form KC, then lower-cased, so that
// " Ada@example.com", "ADA@EXAMPLE.COM" and "ａｄａ@example.com" (full-width
// letters) are one account.
func Canonical(login string) string {
	return strings.ToLower(norm.NFKC.String(strings.TrimSpace(login)))
}

// Login returns prefix followed by a digest of the canonical form of the
// login name login ([Canonical]); a throttle store never holds the name
// itself.
func Login(prefix, login string) string { return Key(prefix, Canonical(login)) }

// Key returns prefix followed by a digest of canonical, a login name
// already in the canonical form of its credential store.
func Key(prefix, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
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
