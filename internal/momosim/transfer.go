package momosim

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// maxMessageLength is the longest payerMessage or payeeNote MoMo takes, in characters.
const maxMessageLength = 160

// maxBodyBytes caps a transfer request body.
const maxBodyBytes = 64 << 10

// transfer is one created transfer. Its status is computed from the clock when read.
type transfer struct {
	product, ref, externalID, amount, currency string
	partyIDType, partyID                       string
	payerMessage, payeeNote, callbackURL       string

	hundredths int64
	createdAt  time.Time
	readyAt    time.Time // PENDING until then
	outcome    string    // terminal status from readyAt on
	reason     string    // FAILED reason
	ftid       int64     // financialTransactionId once SUCCESSFUL

	hiddenGets   int // GETs still to answer 404 (post-404-visible-late)
	callbackDone bool
	timer        *time.Timer // fires the callback of a pending transfer
}

// status returns the transfer's status and reason at now.
func (t *transfer) status(now time.Time) (string, string) {
	if now.Before(t.readyAt) {
		return StatusPending, ""
	}
	return t.outcome, t.reason
}

// transferKey is the map key of a product's reference ID; reference IDs are UUIDs, so
// their case does not matter.
func transferKey(product, ref string) string {
	return product + "/" + strings.ToLower(ref)
}

// apiError is a MoMo error answer.
type apiError struct {
	status        int
	code, message string
}

// write answers the error.
func (e *apiError) write(w http.ResponseWriter) {
	writeError(w, e.status, e.code, e.message)
}

// badRequest returns a 400 apiError.
func badRequest(code, message string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: message}
}

// transferRequest is a validated transfer POST.
type transferRequest struct {
	Amount       string `json:"amount"`
	Currency     string `json:"currency"`
	ExternalID   string `json:"externalId"`
	Payee        party  `json:"payee"`
	PayerMessage string `json:"payerMessage"`
	PayeeNote    string `json:"payeeNote"`

	ref         string
	callbackURL string
	hundredths  int64
}

// party is a transfer's payee.
type party struct {
	PartyIDType string `json:"partyIdType"`
	PartyID     string `json:"partyId"`
}

// parseTransferRequest validates the headers and body of a transfer POST made by user.
func (s *Server) parseTransferRequest(r *http.Request, user string) (*transferRequest, *apiError) {
	ref := r.Header.Get("X-Reference-Id")
	if !isUUIDv4(ref) {
		return nil, badRequest("INVALID_REFERENCE_ID",
			"X-Reference-Id must be a UUID in version-4 form.")
	}
	req, apiErr := decodeTransferBody(r)
	if apiErr != nil {
		return nil, apiErr
	}
	if apiErr := s.checkTransferFields(req); apiErr != nil {
		return nil, apiErr
	}
	callbackURL, apiErr := s.checkCallbackURL(r, user)
	if apiErr != nil {
		return nil, apiErr
	}

	req.ref = ref
	req.callbackURL = callbackURL
	return req, nil
}

// decodeTransferBody reads a JSON transfer body.
func decodeTransferBody(r *http.Request) (*transferRequest, *apiError) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return nil, badRequest("INVALID_REQUEST", "Content-Type must be application/json.")
	}

	var req transferRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, badRequest("INVALID_REQUEST", typeErr.Field+" must be a string.")
		}
		return nil, badRequest("INVALID_REQUEST", "Request body is not valid JSON.")
	}
	return &req, nil
}

// checkTransferFields validates the body fields and stores the parsed amount.
func (s *Server) checkTransferFields(req *transferRequest) *apiError {
	hundredths, err := parseAmount(req.Amount, false)
	if err != nil {
		return badRequest("INVALID_AMOUNT", "amount: "+err.Error()+".")
	}
	req.hundredths = hundredths

	if req.Currency == "" {
		return badRequest("INVALID_CURRENCY", "currency is required.")
	}
	if req.ExternalID == "" {
		return badRequest("INVALID_EXTERNAL_ID", "externalId is required.")
	}
	if apiErr := checkPayee(req.Payee); apiErr != nil {
		return apiErr
	}
	if utf8.RuneCountInString(req.PayerMessage) > maxMessageLength {
		return badRequest("INVALID_PAYER_MESSAGE", "payerMessage is longer than 160 characters.")
	}
	if utf8.RuneCountInString(req.PayeeNote) > maxMessageLength {
		return badRequest("INVALID_PAYEE_NOTE", "payeeNote is longer than 160 characters.")
	}
	if req.Currency != s.cfg.Currency {
		return &apiError{status: http.StatusInternalServerError, code: "INVALID_CURRENCY",
			message: "Currency not supported."}
	}
	return nil
}

// checkPayee validates the payee's party ID type and ID.
func checkPayee(p party) *apiError {
	switch p.PartyIDType {
	case "MSISDN":
		// NOTE: MSISDNs are digits with the country code: no "+", at most 15 digits.
		if !allDigits(p.PartyID) || len(p.PartyID) > 15 {
			return badRequest("INVALID_PAYEE", "payee.partyId must be an MSISDN of digits only.")
		}
	case "EMAIL":
		if !strings.Contains(p.PartyID, "@") {
			return badRequest("INVALID_PAYEE", "payee.partyId must be an e-mail address.")
		}
	case "PARTY_CODE":
		if p.PartyID == "" {
			return badRequest("INVALID_PAYEE", "payee.partyId is required.")
		}
	default:
		return badRequest("INVALID_PAYEE", "payee.partyIdType must be MSISDN, EMAIL or PARTY_CODE.")
	}
	return nil
}

// checkCallbackURL validates an optional X-Callback-Url against user's callback host.
func (s *Server) checkCallbackURL(r *http.Request, user string) (string, *apiError) {
	values, present := r.Header["X-Callback-Url"]
	if !present {
		return "", nil
	}
	refused := badRequest("INVALID_CALLBACK_URL_HOST", "Callback URL with host that is not configured.")
	raw := strings.TrimSpace(values[0])
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", refused
	}

	s.mu.Lock()
	host := ""
	if u, ok := s.lookupUserLocked(user); ok {
		host = u.callbackHost
	}
	s.mu.Unlock()

	if host != "" && !strings.EqualFold(u.Hostname(), host) && !strings.EqualFold(u.Host, host) {
		return "", refused
	}
	return raw, nil
}

// isUUIDv4 reports whether s is a hyphenated UUID of version 4 and the RFC 4122 variant.
func isUUIDv4(s string) bool {
	if len(s) != 36 {
		return false
	}
	id, err := uuid.Parse(s)
	return err == nil && id.Version() == 4 && id.Variant() == uuid.RFC4122
}

// formatFTID renders a financialTransactionId in the string or the numeric form.
func formatFTID(id int64, numeric bool) any {
	if numeric {
		return id
	}
	return strconv.FormatInt(id, 10)
}
