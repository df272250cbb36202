package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/jwtkit/auth/internal/text"
)

// Client describes the client of a request: for "your sessions" screens
// and events, and for login throttling. Every field may be empty.
type Client struct {
	UserAgent string
	Address   string
	// Device is the device token the client presented (see [Auth.Login]):
	// the device cookie, or the "deviceToken" of a body-transfer login.
	// It is a credential: it is never stored, logged or put in an event.
	Device string
}

// maxClientField bounds the client details kept with a session.
const maxClientField = 256

// clipped returns c as a store keeps it: its user agent and address valid
// UTF-8 without control characters, each at most maxClientField bytes cut
// on a character boundary (see package internal/text).
func (c Client) clipped() Client {
	c.UserAgent = text.Clean(c.UserAgent, maxClientField)
	c.Address = text.Clean(c.Address, maxClientField)
	if len(c.Device) > maxDeviceToken {
		c.Device = ""
	}
	return c
}

// ClientFrom describes the client of r: its User-Agent, its address and
// the device token of its device cookie.
// The address is the connection's peer, unless that peer is a trusted proxy
// ([WithTrustedProxies]): then it is the nearest X-Forwarded-For entry that
// is not itself a trusted proxy. X-Forwarded-For is never believed from
// anyone else. An entry may be an address ("203.0.113.7", "2001:db8::1"),
// an address with a port as some gateways write it ("203.0.113.7:4711",
// "[2001:db8::1]:443"), or a bracketed IPv6 address. When the entry that
// decides is anything else ("unknown", an obfuscated name, garbage, an
// empty entry) the client has no address: Address is "", which no
// per-address throttle counts, rather than the proxy's own address, which
// would put every client behind it in one bucket.
func (a *Auth) ClientFrom(r *http.Request) Client {
	return Client{UserAgent: r.UserAgent(), Address: a.clientAddr(r), Device: a.deviceCookie(r)}
}

func (a *Auth) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !a.trustedProxy(peer) {
		return peer.String()
	}
	// Walk X-Forwarded-For from the right (nearest hop) past trusted proxies.
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			ip, ok := parseForwardedHop(parts[j])
			if !ok {
				return "" // the hop that decides is unknown: no address
			}
			if !a.trustedProxy(ip) {
				return ip.String()
			}
			peer = ip
		}
	}
	// Every hop is a trusted proxy (or there is no header): the request
	// came from the farthest of them.
	return peer.String()
}

// parseForwardedHop parses one X-Forwarded-For entry: an IP address, with
// or without a port, an IPv6 address with or without brackets. A zone is
// dropped and an IPv4-mapped address unmapped.
func parseForwardedHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	ip, err := netip.ParseAddr(s)
	if err != nil {
		if ap, perr := netip.ParseAddrPort(s); perr == nil {
			ip, err = ap.Addr(), nil
		} else if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			ip, err = netip.ParseAddr(s[1 : len(s)-1])
			if err == nil && !ip.Is6() {
				err = perr
			}
		}
	}
	if err != nil || !ip.IsValid() {
		return netip.Addr{}, false
	}
	return ip.WithZone("").Unmap(), true
}

func (a *Auth) trustedProxy(ip netip.Addr) bool {
	for _, p := range a.cfg.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
