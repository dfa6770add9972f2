package momosim

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// callbackTimeout bounds one callback delivery.
const callbackTimeout = 2 * time.Second

// newCallbackClient returns the client callbacks are sent with: no proxy, no redirects
// (a redirect could lead off the loopback interface), a short timeout.
func newCallbackClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &http.Client{
		Transport: transport,
		Timeout:   callbackTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// scheduleCallbackLocked sends t's callback now if t is already terminal, or arms a timer
// for when it becomes terminal. With an injected clock the timer may find it still
// PENDING; a later GET or Transfers call then sends it. Caller holds s.mu.
func (s *Server) scheduleCallbackLocked(t *transfer) {
	if t.callbackURL == "" {
		return
	}
	now := s.now()
	s.notifyLocked(t, now)
	if t.callbackDone || s.closed {
		return
	}
	t.timer = time.AfterFunc(t.readyAt.Sub(now), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.notifyLocked(t, s.now())
	})
}

// notifyLocked sends t's callback, once, when t is terminal at now. Caller holds s.mu.
func (s *Server) notifyLocked(t *transfer, now time.Time) {
	if t.callbackURL == "" || t.callbackDone || s.closed {
		return
	}
	if status, _ := t.status(now); status == StatusPending {
		return
	}
	t.callbackDone = true
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}

	body, err := json.Marshal(statusBody(t, now))
	if err != nil {
		return
	}
	target := t.callbackURL
	s.callbacks.Go(func() { s.sendCallback(target, body) })
}

// sendCallback POSTs body to target, best effort, and only to a loopback host: the
// simulator must never call out to the network. Anything else is dropped silently.
func (s *Server) sendCallback(target string, body []byte) {
	u, err := url.Parse(target)
	if err != nil || !isLoopbackHost(u.Hostname()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callbackTimeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.callbackClient.Do(req)
	if err != nil {
		return
	}
	_ = resp.Body.Close()
}

// isLoopbackHost reports whether host is localhost or a loopback IP address. Names other
// than localhost are not resolved.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
