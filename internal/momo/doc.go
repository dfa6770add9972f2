// Package momo is a client for the MTN MoMo Open API, limited to what a payout system needs
// from the Disbursement and Remittance products: access tokens, transfers and their status,
// the account balance, account-holder checks and sandbox provisioning.
//
// The client never logs and never retries on its own, with one exception: a 401 on an API call
// refreshes the product's token and repeats the call once, because a 401 means the gateway
// refused the request before MoMo saw it. Every other decision is the caller's, guided by
// Classify, which sorts any error returned here into a Class.
//
// Secrets (the API key, the subscription keys and tokens) never appear in returned errors: the
// client removes them even from text that a server echoes back.
package momo
