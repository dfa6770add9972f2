package momo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CreateAPIUser creates a sandbox API user with ID userID (a version-4 UUID) whose callbacks
// go to callbackHost (a host name, no scheme). It uses only p's subscription key: no token,
// no Basic auth. A 409 (ClassConflict) means the ID exists already. Sandbox only.
func (c *Client) CreateAPIUser(ctx context.Context, p Product, userID, callbackHost string) error {
	const op = "create api user"
	if err := checkReferenceID(op, userID); err != nil {
		return err
	}
	if strings.TrimSpace(callbackHost) == "" {
		return fmt.Errorf("%w: %s: callback host is empty", ErrInvalidRequest, op)
	}
	body, err := json.Marshal(struct {
		ProviderCallbackHost string `json:"providerCallbackHost"`
	}{callbackHost})
	if err != nil {
		return errorf(op, err)
	}

	cl := call{
		op:       op,
		endpoint: "apiuser",
		method:   http.MethodPost,
		path:     "/v1_0/apiuser",
		body:     body,
		refID:    userID,
		noEnv:    true,
	}
	_, err = c.roundTrip(ctx, p, cl, "", "", http.StatusCreated, http.StatusOK)
	return err
}

// CreateAPIKey creates a new key for the sandbox API user userID and returns it. MoMo cannot
// show the key again later. It uses only p's subscription key. Sandbox only.
func (c *Client) CreateAPIKey(ctx context.Context, p Product, userID string) (string, error) {
	const op = "create api key"
	if err := checkReferenceID(op, userID); err != nil {
		return "", err
	}

	cl := call{
		op:       op,
		endpoint: "apikey",
		method:   http.MethodPost,
		path:     "/v1_0/apiuser/" + url.PathEscape(userID) + "/apikey",
		noEnv:    true,
	}
	body, err := c.roundTrip(ctx, p, cl, "", "", http.StatusCreated, http.StatusOK)
	if err != nil {
		return "", err
	}

	var r struct {
		APIKey string `json:"apiKey"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", errorf(op, fmt.Errorf("decode response: %w", err))
	}
	if r.APIKey == "" {
		return "", errorf(op, errors.New("response has no apiKey"))
	}
	return r.APIKey, nil
}
