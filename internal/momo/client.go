package momo

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// minSecretLen is the shortest secret the client scrubs from error text; shorter strings
// would mangle ordinary words and are not credible secrets.
const minSecretLen = 4

// Client calls the MoMo Open API. It is safe for concurrent use; create one per process and
// share it, so that tokens are shared too.
type Client struct {
	cfg     Config
	keys    map[Product]string
	basic   string // base64(apiUser:apiKey)
	tokens  map[Product]*tokenCache
	secrets []string
}

// New checks cfg and returns a Client. An error names the missing or malformed field, never
// its value, and wraps ErrConfig.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}

	c := &Client{
		cfg:    cfg,
		keys:   make(map[Product]string, len(cfg.SubscriptionKeys)),
		basic:  base64.StdEncoding.EncodeToString([]byte(cfg.APIUser + ":" + cfg.APIKey)),
		tokens: make(map[Product]*tokenCache, len(products)),
	}
	c.secrets = append(c.secrets, cfg.APIKey, c.basic)
	for p, key := range cfg.SubscriptionKeys {
		c.keys[p] = key
		c.secrets = append(c.secrets, key)
	}
	for _, p := range products {
		c.tokens[p] = &tokenCache{}
	}
	return c, nil
}

// CallbackURL returns Config.CallbackURL, the X-Callback-Url of transfers that name none.
func (c *Client) CallbackURL() string { return c.cfg.CallbackURL }

// call describes one API request.
type call struct {
	op       string // for errors: "create transfer"
	endpoint string // for the Observer: "transfer"
	method   string
	path     string // escaped, starting with "/"
	body     []byte // JSON; nil sends no body
	refID    string // X-Reference-Id, when non-empty
	callback string // X-Callback-Url, when non-empty
	noEnv    bool   // leave out X-Target-Environment (token, provisioning)
}

// subscriptionKey returns p's key, or an error naming the product.
func (c *Client) subscriptionKey(p Product) (string, error) {
	if !p.valid() {
		return "", fmt.Errorf("%w %q", ErrUnknownProduct, p)
	}
	key := c.keys[p]
	if key == "" {
		return "", fmt.Errorf("%w %q", ErrNoSubscriptionKey, p)
	}
	return key, nil
}

// withToken sends cl with p's bearer token. A 401 drops the token, fetches a new one and
// sends cl once more: the gateway refused the first request, so repeating it is safe.
func (c *Client) withToken(ctx context.Context, p Product, cl call, want ...int) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		token, err := c.Token(ctx, p)
		if err != nil {
			return nil, err
		}

		body, err := c.roundTrip(ctx, p, cl, "Bearer", token, want...)
		var apiErr *Error
		if attempt == 1 && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
			c.invalidateToken(p, token)
			continue
		}
		return body, err
	}
}

// roundTrip sends cl once, with "Authorization: scheme credential" unless scheme is empty.
// It returns the body when the status is one of want, and an *Error otherwise.
func (c *Client) roundTrip(ctx context.Context, p Product, cl call, scheme, credential string,
	want ...int) ([]byte, error) {
	req, err := c.newRequest(ctx, p, cl)
	if err != nil {
		return nil, err
	}
	if scheme != "" {
		req.Header.Set("Authorization", scheme+" "+credential)
	}

	start := time.Now()
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.observeCall(p, cl.endpoint, 0, time.Since(start))
		return nil, errorf(cl.op, err)
	}
	body, err := readBody(resp)
	c.observeCall(p, cl.endpoint, resp.StatusCode, time.Since(start))
	if err != nil {
		return nil, errorf(cl.op, fmt.Errorf("read response: %w", err))
	}

	for _, status := range want {
		if resp.StatusCode == status {
			return body, nil
		}
	}
	return nil, c.apiError(cl, resp, body, credential)
}

func (c *Client) newRequest(ctx context.Context, p Product, cl call) (*http.Request, error) {
	key, err := c.subscriptionKey(p)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.cfg.BaseURL+cl.path, body)
	if err != nil {
		return nil, errorf(cl.op, err)
	}

	req.Header.Set("Ocp-Apim-Subscription-Key", key)
	if !cl.noEnv {
		req.Header.Set("X-Target-Environment", c.cfg.TargetEnvironment)
	}
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.refID != "" {
		req.Header.Set("X-Reference-Id", cl.refID)
	}
	if cl.callback != "" {
		req.Header.Set("X-Callback-Url", cl.callback)
	}
	return req, nil
}

// readBody reads a capped amount of the body and closes it, draining a little more so that
// the connection can be reused.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	limit := int64(maxBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	return body, err
}

// apiError builds the *Error for an unwanted status, with every secret scrubbed.
func (c *Client) apiError(cl call, resp *http.Response, body []byte, credential string) *Error {
	// Scrub before decoding, so clipping cannot cut a secret in half, and after, so that a
	// secret spelt with JSON escapes is caught too.
	eb := parseErrorBody([]byte(c.redact(string(body), credential)))
	return &Error{
		Op:         cl.op,
		Method:     cl.method,
		StatusCode: resp.StatusCode,
		Code:       c.redact(eb.code, credential),
		Message:    c.redact(eb.message, credential),
		RetryAfter: retryAfter(resp.Header, time.Now()),
		gateway:    eb.gateway,
	}
}

// redact replaces every configured secret, and extra, in s.
func (c *Client) redact(s string, extra ...string) string {
	for _, secrets := range [][]string{c.secrets, extra} {
		for _, secret := range secrets {
			if len(secret) >= minSecretLen {
				s = strings.ReplaceAll(s, secret, "[redacted]")
			}
		}
	}
	return s
}

func (c *Client) observeCall(p Product, endpoint string, status int, d time.Duration) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveCall(p, endpoint, status, d)
	}
}
