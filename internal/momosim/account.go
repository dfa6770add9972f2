package momosim

import (
	"net/http"
)

// balanceAnswer is the body of an account balance GET.
type balanceAnswer struct {
	AvailableBalance string `json:"availableBalance"`
	Currency         string `json:"currency"`
}

// handleBalance serves GET /{product}/v1_0/account/balance.
func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request, product string) {
	if _, ok := s.productAuth(w, r, product); !ok {
		return
	}

	s.mu.Lock()
	available := s.balance[product]
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, balanceAnswer{
		AvailableBalance: formatAmount(available),
		Currency:         s.cfg.Currency,
	})
}

// handleAccountActive serves GET /{product}/v1_0/accountholder/{kind}/{id}/active.
func (s *Server) handleAccountActive(w http.ResponseWriter, r *http.Request, product string) {
	if _, ok := s.productAuth(w, r, product); !ok {
		return
	}

	kind, id := r.PathValue("kind"), r.PathValue("id")
	switch kind {
	case "msisdn", "email", "party_code":
	default:
		writeError(w, http.StatusBadRequest, "INVALID_ACCOUNT_HOLDER_ID_TYPE",
			"Account holder ID type must be msisdn, email or party_code.")
		return
	}

	active := !(kind == "msisdn" && id == TestNumberPayeeNotFound)
	writeJSON(w, http.StatusOK, struct {
		Result bool `json:"result"`
	}{active})
}
