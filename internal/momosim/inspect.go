package momosim

import (
	"fmt"
	"strconv"
	"time"
)

// Transfer is a snapshot of one created transfer, for tests and the /_sim/ endpoints.
type Transfer struct {
	// Product is "disbursement" or "remittance".
	Product string `json:"product"`
	// ReferenceID is the X-Reference-Id the transfer was created under.
	ReferenceID string `json:"referenceId"`
	// ExternalID is the externalId the POST sent.
	ExternalID string `json:"externalId"`
	// Amount is the decimal string the POST sent.
	Amount string `json:"amount"`
	// Currency is the currency the POST sent.
	Currency string `json:"currency"`
	// PartyIDType is the payee's MSISDN, EMAIL or PARTY_CODE.
	PartyIDType string `json:"partyIdType"`
	// PartyID is the payee's ID.
	PartyID string `json:"partyId"`
	// PayerMessage is the message shown to the payer.
	PayerMessage string `json:"payerMessage"`
	// PayeeNote is the note shown to the payee.
	PayeeNote string `json:"payeeNote"`
	// CallbackURL is the X-Callback-Url, if any.
	CallbackURL string `json:"callbackUrl,omitempty"`
	// Status is PENDING, SUCCESSFUL or FAILED, as a GET would answer now.
	Status string `json:"status"`
	// Reason is the FAILED reason code, as a GET would answer now.
	Reason string `json:"reason,omitempty"`
	// FinancialTransactionID is set once the transfer is SUCCESSFUL.
	FinancialTransactionID string `json:"financialTransactionId,omitempty"`
	// CreatedAt is when the simulator created the transfer, by its clock.
	CreatedAt time.Time `json:"createdAt"`
}

// Stats counts what the simulator has seen.
type Stats struct {
	// TokensIssued counts access tokens issued.
	TokensIssued int `json:"tokensIssued"`
	// TransfersCreated counts transfers created.
	TransfersCreated int `json:"transfersCreated"`
	// Conflicts409 counts transfer POSTs refused because their reference ID was used.
	Conflicts409 int `json:"conflicts409"`
	// StatusQueries counts authenticated transfer GETs.
	StatusQueries int `json:"statusQueries"`
	// FaultsInjected counts faulty answers delivered (injected or drawn, slow included).
	FaultsInjected int `json:"faultsInjected"`
	// PaidTwice counts payees (product + partyId + externalId + amount) for which more than
	// one transfer was created under different reference IDs and did not end FAILED. It
	// must stay 0 in a correct worker run.
	PaidTwice int `json:"paidTwice"`
}

// Transfers returns a snapshot of every created transfer, in creation order. Reading it
// also sends the callbacks of transfers that have become terminal.
func (s *Server) Transfers() []Transfer {
	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.now()
	out := make([]Transfer, 0, len(s.order))
	for _, t := range s.order {
		s.notifyLocked(t, now)
		out = append(out, snapshot(t, now))
	}
	return out
}

// snapshot copies t's fields and its status at now.
func snapshot(t *transfer, now time.Time) Transfer {
	status, reason := t.status(now)
	ftid := ""
	if status == StatusSuccessful {
		ftid = strconv.FormatInt(t.ftid, 10)
	}
	return Transfer{
		Product: t.product, ReferenceID: t.ref, ExternalID: t.externalID,
		Amount: t.amount, Currency: t.currency,
		PartyIDType: t.partyIDType, PartyID: t.partyID,
		PayerMessage: t.payerMessage, PayeeNote: t.payeeNote, CallbackURL: t.callbackURL,
		Status: status, Reason: reason, FinancialTransactionID: ftid,
		CreatedAt: t.createdAt,
	}
}

// Stats returns the counters, PaidTwice computed from the transfers' statuses now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()

	st := s.stats
	st.FaultsInjected = s.faults.count

	now := s.now()
	live := make(map[string]int)
	for _, t := range s.order {
		if status, _ := t.status(now); status == StatusFailed {
			continue
		}
		key := fmt.Sprintf("%s\x00%s\x00%s\x00%d", t.product, t.partyID, t.externalID, t.hundredths)
		live[key]++
		if live[key] == 2 {
			st.PaidTwice++
		}
	}
	return st
}

// SetFaults replaces the fault probabilities. Values outside [0,1] are clamped; use
// Faults.Validate to refuse them instead. Pending InjectNext injections are kept.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.probs = f.clamped()
}

// InjectNext makes the next n requests of the kind's sort suffer the fault, whatever the
// probabilities: transfer POSTs for the post-* kinds, transfer GETs for status-fail, product
// calls for 429 and token-401, token requests for token-login-failed. For
// post-404-visible-late, n is the number of GETs of the next created transfer that answer
// 404. Injections add up; n <= 0 cancels the kind's pending ones. It panics on an unknown
// kind (see ValidFaultKind).
func (s *Server) InjectNext(kind string, n int) {
	if !ValidFaultKind(kind) {
		panic(fmt.Sprintf("momosim: inject: unknown fault kind %q", kind))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.faults.next, kind)
		return
	}
	s.faults.next[kind] += n
}

// SetBalance sets product's available balance to amount, a decimal string with at most two
// decimals. It panics on an unknown product or a malformed amount.
func (s *Server) SetBalance(product, amount string) {
	if err := s.setBalance(product, amount); err != nil {
		panic(err)
	}
}

// setBalance is SetBalance returning its error.
func (s *Server) setBalance(product, amount string) error {
	if !validProduct(product) {
		return fmt.Errorf("momosim: set balance: unknown product %q", product)
	}
	hundredths, err := parseAmount(amount, true)
	if err != nil {
		return fmt.Errorf("momosim: set balance: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance[product] = hundredths
	return nil
}

// SetTokenTTL sets the lifetime of tokens issued from now on; d <= 0 restores the default
// of 1 h. Tokens already issued keep their expiry.
func (s *Server) SetTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.TokenTTL = durationOr(d, DefaultTokenTTL)
}
