package momosim

import (
	"net/http"
	"time"
)

// statusAnswer is the body of a transfer GET and of a callback.
type statusAnswer struct {
	Amount                 string `json:"amount"`
	Currency               string `json:"currency"`
	FinancialTransactionID any    `json:"financialTransactionId,omitempty"`
	ExternalID             string `json:"externalId"`
	Payee                  party  `json:"payee"`
	PayerMessage           string `json:"payerMessage"`
	PayeeNote              string `json:"payeeNote"`
	Status                 string `json:"status"`
	Reason                 any    `json:"reason,omitempty"`
}

// handleGetTransfer serves GET /{product}/v1_0/transfer/{ref}.
func (s *Server) handleGetTransfer(w http.ResponseWriter, r *http.Request, product string) {
	if _, ok := s.productAuth(w, r, product); !ok {
		return
	}
	ref := r.PathValue("ref")

	s.mu.Lock()
	s.stats.StatusQueries++
	status, body := s.statusLocked(product, ref)
	s.mu.Unlock()

	writeJSON(w, status, body)
}

// statusLocked decides a transfer GET's answer. Caller holds s.mu.
func (s *Server) statusLocked(product, ref string) (int, any) {
	if s.faults.hit(FaultStatusFail, s.faults.probs.StatusFail) {
		if s.faults.alternate() {
			return http.StatusInternalServerError, errorBody{Code: "INTERNAL_PROCESSING_ERROR",
				Message: "An internal error occurred while processing."}
		}
		return http.StatusServiceUnavailable, errorBody{Code: "SERVICE_UNAVAILABLE",
			Message: "Service is unavailable."}
	}

	notFound := errorBody{Code: "RESOURCE_NOT_FOUND", Message: "Requested resource was not found."}
	t, ok := s.transfers[transferKey(product, ref)]
	if !ok {
		return http.StatusNotFound, notFound
	}
	if t.hiddenGets > 0 {
		t.hiddenGets--
		s.faults.count++
		return http.StatusNotFound, notFound
	}

	now := s.now()
	s.notifyLocked(t, now)
	return http.StatusOK, statusBody(t, now)
}

// statusBody renders the transfer's status at now, in the forms its reference ID picks.
func statusBody(t *transfer, now time.Time) statusAnswer {
	status, reason := t.status(now)
	reasonObject, numericID := variant(t.ref)
	a := statusAnswer{
		Amount:       t.amount,
		Currency:     t.currency,
		ExternalID:   t.externalID,
		Payee:        party{PartyIDType: t.partyIDType, PartyID: t.partyID},
		PayerMessage: t.payerMessage,
		PayeeNote:    t.payeeNote,
		Status:       status,
	}
	switch {
	case status == StatusSuccessful:
		a.FinancialTransactionID = formatFTID(t.ftid, numericID)
	case status == StatusFailed && reasonObject:
		a.Reason = errorBody{Code: reason, Message: reasonMessages[reason]}
	case status == StatusFailed:
		a.Reason = reason
	}
	return a
}
