package momosim

import (
	"net/http"
)

// postResult is what a transfer POST answers once validated.
type postResult int

const (
	postAccepted  postResult = iota // 202, created
	postConflict                    // 409, reference ID already used, nothing created
	postFail500                     // 500 before creating
	postFail503                     // 503 before creating
	postDropAfter                   // created, connection dropped
	post500After                    // created, then 500
)

// handleCreateTransfer serves POST /{product}/v1_0/transfer.
func (s *Server) handleCreateTransfer(w http.ResponseWriter, r *http.Request, product string) {
	user, ok := s.productAuth(w, r, product)
	if !ok {
		return
	}
	req, apiErr := s.parseTransferRequest(r, user)
	if apiErr != nil {
		apiErr.write(w)
		return
	}

	s.mu.Lock()
	result := s.createLocked(product, req)
	s.mu.Unlock()

	switch result {
	case postConflict:
		writeError(w, http.StatusConflict, "RESOURCE_ALREADY_EXIST",
			"Duplicated reference id. Creation of resource failed.")
	case postFail500, post500After:
		writeError(w, http.StatusInternalServerError, "INTERNAL_PROCESSING_ERROR",
			"An internal error occurred while processing.")
	case postFail503:
		writeError(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE",
			"Service is unavailable.")
	case postDropAfter:
		dropConnection(w)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// createLocked applies the POST faults and creates the transfer. Caller holds s.mu.
func (s *Server) createLocked(product string, req *transferRequest) postResult {
	if s.faults.hit(FaultPostFailBefore, s.faults.probs.PostFailBefore) {
		if s.faults.alternate() {
			return postFail500
		}
		return postFail503
	}
	key := transferKey(product, req.ref)
	if _, exists := s.transfers[key]; exists {
		s.stats.Conflicts409++
		return postConflict
	}

	t := s.newTransferLocked(product, req)
	s.transfers[key] = t
	s.order = append(s.order, t)
	s.stats.TransfersCreated++
	if n := s.faults.next[FaultPost404VisibleLate]; n > 0 {
		t.hiddenGets = n
		delete(s.faults.next, FaultPost404VisibleLate)
	}
	s.scheduleCallbackLocked(t)

	switch {
	case s.faults.hit(FaultPostDropAfter, s.faults.probs.PostDropAfter):
		return postDropAfter
	case s.faults.hit(FaultPost500After, s.faults.probs.Post500After):
		return post500After
	}
	return postAccepted
}

// newTransferLocked builds the transfer and settles its outcome: the test-number table
// first, then the balance, which a transfer bound to succeed decrements at once.
func (s *Server) newTransferLocked(product string, req *transferRequest) *transfer {
	now := s.now()
	t := &transfer{
		product:      product,
		ref:          req.ref,
		externalID:   req.ExternalID,
		amount:       req.Amount,
		currency:     req.Currency,
		partyIDType:  req.Payee.PartyIDType,
		partyID:      req.Payee.PartyID,
		payerMessage: req.PayerMessage,
		payeeNote:    req.PayeeNote,
		callbackURL:  req.callbackURL,
		hundredths:   req.hundredths,
		createdAt:    now,
		readyAt:      now.Add(s.pendingTime(req.Payee.PartyIDType, req.Payee.PartyID)),
		outcome:      StatusSuccessful,
	}
	if t.partyIDType == "MSISDN" {
		t.outcome, t.reason = ExpectedOutcome(t.partyID)
	}
	if t.outcome != StatusSuccessful {
		return t
	}

	if s.balance[product] < t.hundredths {
		t.outcome, t.reason = StatusFailed, "NOT_ENOUGH_FUNDS"
		return t
	}
	s.balance[product] -= t.hundredths
	s.ftidSeq++
	t.ftid = s.ftidSeq
	return t
}

// dropConnection closes the client's connection without answering.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Without a hijackable connection (HTTP/2), aborting the handler resets the stream.
	panic(http.ErrAbortHandler)
}
