package momo

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Transfer statuses MoMo reports.
const (
	StatusPending    = "PENDING"
	StatusSuccessful = "SUCCESSFUL"
	StatusFailed     = "FAILED"
)

// Party identifies a payee.
type Party struct {
	// PartyIDType is MSISDN, EMAIL or PARTY_CODE.
	PartyIDType string `json:"partyIdType"`
	// PartyID is the MSISDN (digits with country code, no "+"), e-mail or party code.
	PartyID string `json:"partyId"`
}

// TransferRequest is the body of a transfer. Amount is a decimal string, never a float.
type TransferRequest struct {
	Amount       string // decimal string in the currency's unit, e.g. "1500"
	Currency     string // ISO 4217 code; the sandbox takes only EUR
	ExternalID   string // for reconciliation; MoMo does not require it to be unique
	Payee        Party  // who is paid
	PayerMessage string // at most 160 characters
	PayeeNote    string // at most 160 characters
	// CallbackURL is sent as X-Callback-Url instead of Config.CallbackURL, so that each
	// transfer can name its own callback. Its host must equal the API user's
	// providerCallbackHost. Defaults to empty: Config.CallbackURL is sent, if set.
	CallbackURL string
}

// transferBody is TransferRequest as MoMo spells it.
type transferBody struct {
	Amount       string `json:"amount"`
	Currency     string `json:"currency"`
	ExternalID   string `json:"externalId"`
	Payee        Party  `json:"payee"`
	PayerMessage string `json:"payerMessage"`
	PayeeNote    string `json:"payeeNote"`
}

// Transfer asks MoMo to pay req.Payee, under referenceID (a version-4 UUID sent as
// X-Reference-Id, which becomes the transfer's ID). It returns nil on 202 Accepted: the
// transfer is submitted, and GetTransfer tells how it ends. Use Classify on an error; a
// ClassConflict means an earlier attempt with this referenceID got through.
func (c *Client) Transfer(ctx context.Context, p Product, referenceID string,
	req TransferRequest) error {
	const op = "create transfer"
	if err := checkReferenceID(op, referenceID); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	body, err := json.Marshal(transferBody{
		Amount: req.Amount, Currency: req.Currency, ExternalID: req.ExternalID,
		Payee: req.Payee, PayerMessage: req.PayerMessage, PayeeNote: req.PayeeNote,
	})
	if err != nil {
		return errorf(op, err)
	}

	cl := call{
		op:       op,
		endpoint: "transfer",
		method:   http.MethodPost,
		path:     "/" + string(p) + "/v1_0/transfer",
		body:     body,
		refID:    referenceID,
		callback: cmp.Or(req.CallbackURL, c.cfg.CallbackURL),
	}
	_, err = c.withToken(ctx, p, cl, http.StatusAccepted)
	return err
}

// check refuses a request MoMo would refuse, without sending it.
func (r TransferRequest) check() error {
	missing := []struct{ name, value string }{
		{"amount", r.Amount},
		{"currency", r.Currency},
		{"payee party ID type", r.Payee.PartyIDType},
		{"payee party ID", r.Payee.PartyID},
	}
	for _, f := range missing {
		if strings.TrimSpace(f.value) == "" {
			return fmt.Errorf("%w: create transfer: %s is empty", ErrInvalidRequest, f.name)
		}
	}
	if err := validateURL("callback URL", r.CallbackURL, false); err != nil {
		return fmt.Errorf("%w: create transfer: callback URL must be an absolute http or https URL",
			ErrInvalidRequest)
	}
	return nil
}

// checkReferenceID requires the canonical form of a version-4 UUID, which MoMo checks.
func checkReferenceID(op, id string) error {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 || u.Version() != 4 || u.Variant() != uuid.RFC4122 {
		return fmt.Errorf("%w: %s: reference ID %q is not a version-4 UUID", ErrInvalidRequest, op, id)
	}
	return nil
}

// TransferStatus is what MoMo reports about a transfer.
type TransferStatus struct {
	// ReferenceID is the X-Reference-Id the transfer was created with.
	ReferenceID            string
	Amount                 string // exactly as MoMo sent it, even when sent as a number
	Currency               string // ISO 4217 code
	FinancialTransactionID string // MoMo's ID, for reconciliation; set once SUCCESSFUL
	ExternalID             string // the ExternalID the transfer was created with
	Payee                  Party  // who is paid
	PayerMessage           string // as sent
	PayeeNote              string // as sent
	// Status is PENDING, SUCCESSFUL or FAILED, upper-cased.
	Status string
	// Reason is the reason code of a FAILED transfer, e.g. NOT_ENOUGH_FUNDS.
	Reason string
	// ReasonMessage is the reason's message, when MoMo sent the reason as an object.
	ReasonMessage string
}

// Terminal reports whether the transfer has ended (SUCCESSFUL or FAILED).
//
// NOTE: any other status, including ones MoMo does not document, counts as still running:
// a payout is never marked failed on a status this client does not understand.
func (s *TransferStatus) Terminal() bool {
	return s.Status == StatusSuccessful || s.Status == StatusFailed
}

// statusBody is the body of GET transfer, tolerant of MoMo's varying types.
type statusBody struct {
	Amount                 flexString `json:"amount"`
	Currency               flexString `json:"currency"`
	FinancialTransactionID flexString `json:"financialTransactionId"`
	ExternalID             flexString `json:"externalId"`
	Payee                  struct {
		PartyIDType flexString `json:"partyIdType"`
		PartyID     flexString `json:"partyId"`
	} `json:"payee"`
	PayerMessage flexString `json:"payerMessage"`
	PayeeNote    flexString `json:"payeeNote"`
	Status       flexString `json:"status"`
	Reason       flexReason `json:"reason"`
}

// GetTransfer returns the status of the transfer created under referenceID. MoMo answers 200
// for failed transfers too; an unknown referenceID gives an *Error with StatusCode 404
// (IsNotFound). A 404 shortly after a 202 may only mean the transfer is not visible yet.
func (c *Client) GetTransfer(ctx context.Context, p Product,
	referenceID string) (*TransferStatus, error) {
	const op = "get transfer"
	if err := checkReferenceID(op, referenceID); err != nil {
		return nil, err
	}

	cl := call{
		op:       op,
		endpoint: "transfer_status",
		method:   http.MethodGet,
		path:     "/" + string(p) + "/v1_0/transfer/" + url.PathEscape(referenceID),
	}
	body, err := c.withToken(ctx, p, cl, http.StatusOK)
	if err != nil {
		return nil, err
	}

	var sb statusBody
	if err := json.Unmarshal(body, &sb); err != nil {
		return nil, errorf(op, fmt.Errorf("decode response: %w", err))
	}
	return sb.status(referenceID), nil
}

func (sb statusBody) status(referenceID string) *TransferStatus {
	return &TransferStatus{
		ReferenceID:            referenceID,
		Amount:                 string(sb.Amount),
		Currency:               string(sb.Currency),
		FinancialTransactionID: string(sb.FinancialTransactionID),
		ExternalID:             string(sb.ExternalID),
		Payee: Party{
			PartyIDType: string(sb.Payee.PartyIDType),
			PartyID:     string(sb.Payee.PartyID),
		},
		PayerMessage:  string(sb.PayerMessage),
		PayeeNote:     string(sb.PayeeNote),
		Status:        strings.ToUpper(strings.TrimSpace(string(sb.Status))),
		Reason:        sb.Reason.Code,
		ReasonMessage: sb.Reason.Message,
	}
}
