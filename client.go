package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
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

func (c Client) clipped() Client {
	if len(c.UserAgent) > maxClientField {
		c.UserAgent = c.UserAgent[:maxClientField]
	}
	if len(c.Address) > maxClientField {
		c.Address = c.Address[:maxClientField]
	}
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
// anyone else.
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
			ip, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer.String() // a malformed chain: stop at what we know
			}
			ip = ip.Unmap()
			if !a.trustedProxy(ip) {
				return ip.String()
			}
			peer = ip
		}
	}
	return peer.String()
}

func (a *Auth) trustedProxy(ip netip.Addr) bool {
	for _, p := range a.cfg.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
