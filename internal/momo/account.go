package momo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Balance is a product account's available balance.
type Balance struct {
	// AvailableBalance is a decimal string, exactly as MoMo sent it.
	AvailableBalance string
	// Currency is the account's ISO 4217 currency code.
	Currency string
}

// Balance returns the available balance of p's account.
func (c *Client) Balance(ctx context.Context, p Product) (*Balance, error) {
	const op = "get balance"
	cl := call{
		op:       op,
		endpoint: "balance",
		method:   http.MethodGet,
		path:     "/" + string(p) + "/v1_0/account/balance",
	}
	body, err := c.withToken(ctx, p, cl, http.StatusOK)
	if err != nil {
		return nil, err
	}

	var b struct {
		AvailableBalance flexString `json:"availableBalance"`
		Currency         flexString `json:"currency"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errorf(op, fmt.Errorf("decode response: %w", err))
	}
	return &Balance{AvailableBalance: string(b.AvailableBalance), Currency: string(b.Currency)}, nil
}

// accountHolderTypes maps a Party's PartyIDType to its path segment.
var accountHolderTypes = map[string]string{
	"MSISDN":     "msisdn",
	"EMAIL":      "email",
	"PARTY_CODE": "party_code",
}

// AccountHolderActive reports whether the account holder partyID, of type partyIDType
// (MSISDN, EMAIL or PARTY_CODE, any case), exists and is active.
func (c *Client) AccountHolderActive(ctx context.Context, p Product,
	partyIDType, partyID string) (bool, error) {
	const op = "get account holder"
	segment, ok := accountHolderTypes[strings.ToUpper(strings.TrimSpace(partyIDType))]
	if !ok || strings.TrimSpace(partyID) == "" {
		return false, fmt.Errorf("%w: %s: want a party ID of type MSISDN, EMAIL or PARTY_CODE",
			ErrInvalidRequest, op)
	}

	cl := call{
		op:       op,
		endpoint: "accountholder",
		method:   http.MethodGet,
		path: "/" + string(p) + "/v1_0/accountholder/" + segment + "/" +
			url.PathEscape(partyID) + "/active",
	}
	body, err := c.withToken(ctx, p, cl, http.StatusOK)
	if err != nil {
		return false, err
	}

	var r struct {
		Result *flexBool `json:"result"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return false, errorf(op, fmt.Errorf("decode response: %w", err))
	}
	if r.Result == nil {
		return false, errorf(op, fmt.Errorf("decode response: no result"))
	}
	return bool(*r.Result), nil
}
