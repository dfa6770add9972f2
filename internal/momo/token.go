package momo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// tokenFetchTimeout bounds a token fetch, which runs detached from the callers' contexts so
// that one caller giving up does not fail the others waiting for the same token.
const tokenFetchTimeout = 30 * time.Second

// tokenCache holds one product's token and the fetch in progress, if any.
type tokenCache struct {
	mu        sync.Mutex
	token     string
	refreshAt time.Time
	fetch     *tokenFetch
}

// tokenFetch is a token request shared by every caller that needs the token meanwhile.
type tokenFetch struct {
	done  chan struct{} // closed when token and err are set
	token string
	err   error
}

// Token returns a bearer token for p: the cached one, or a new one when there is none or it
// is within TokenRefreshBefore of expiry. However many goroutines call, only one fetch per
// product runs at a time; the others wait for its result. A failed fetch is returned to all
// of them, and the next call tries again.
func (c *Client) Token(ctx context.Context, p Product) (string, error) {
	if _, err := c.subscriptionKey(p); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", errorf("token", err)
	}

	tc := c.tokens[p]
	tc.mu.Lock()
	if tc.token != "" && time.Now().Before(tc.refreshAt) {
		token := tc.token
		tc.mu.Unlock()
		return token, nil
	}
	f := tc.fetch
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		tc.fetch = f
		go c.refresh(context.WithoutCancel(ctx), p, tc, f)
	}
	tc.mu.Unlock()

	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", errorf("token", ctx.Err())
	}
}

// refresh runs f, stores its token and wakes the waiters.
func (c *Client) refresh(ctx context.Context, p Product, tc *tokenCache, f *tokenFetch) {
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()

	token, refreshAt, err := c.fetchToken(ctx, p)

	tc.mu.Lock()
	if err == nil {
		tc.token, tc.refreshAt = token, refreshAt
	}
	tc.fetch = nil
	tc.mu.Unlock()

	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveTokenRefresh(p, err)
	}
	f.token, f.err = token, err
	close(f.done)
}

// invalidateToken drops p's cached token if it is still token, after the gateway refused it.
// A token fetched meanwhile by another caller is kept.
func (c *Client) invalidateToken(p Product, token string) {
	tc := c.tokens[p]
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.token == token {
		tc.token = ""
	}
}

// tokenResponse is the body of a successful token request.
type tokenResponse struct {
	AccessToken string     `json:"access_token"`
	TokenType   string     `json:"token_type"`
	ExpiresIn   flexString `json:"expires_in"` // NOTE: a number or a string
}

// fetchToken requests a token and returns it with the time to replace it. The expiry counts
// from when the request was sent, by the local clock.
func (c *Client) fetchToken(ctx context.Context, p Product) (string, time.Time, error) {
	cl := call{
		op:       "token",
		endpoint: "token",
		method:   http.MethodPost,
		path:     "/" + string(p) + "/token/", // NOTE: the trailing slash is part of the path
		noEnv:    true,
	}
	sent := time.Now()
	body, err := c.roundTrip(ctx, p, cl, "Basic", c.basic, http.StatusOK)
	if err != nil {
		return "", time.Time{}, err
	}

	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", time.Time{}, errorf("token", fmt.Errorf("decode response: %w", err))
	}
	if tr.AccessToken == "" {
		return "", time.Time{}, errorf("token", errors.New("response has no access_token"))
	}
	lifetime, err := parseLifetime(string(tr.ExpiresIn))
	if err != nil {
		return "", time.Time{}, errorf("token", err)
	}
	early := min(c.cfg.TokenRefreshBefore, lifetime/2)
	return tr.AccessToken, sent.Add(lifetime - early), nil
}

// parseLifetime reads expires_in, a number of seconds.
func parseLifetime(s string) (time.Duration, error) {
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs <= 0 || secs > 366*24*3600 {
		return 0, fmt.Errorf("response has no valid expires_in (%.20q)", s)
	}
	return time.Duration(secs * float64(time.Second)), nil
}
