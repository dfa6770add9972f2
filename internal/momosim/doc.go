// Package momosim simulates the server side of the MTN MoMo Open API sandbox for the
// Disbursement and Remittance products, over real HTTP, for tests, the demo and chaos runs.
// It is written from MoMo's published behaviour and shares no code with the project's client.
//
// Mount a Server on an httptest.Server (or run cmd/momosim) and point the client's base URL
// at it. It serves, for each product p ("disbursement", "remittance"):
//
//	POST /{p}/token/                               Basic auth, product key, no body
//	POST /{p}/v1_0/transfer                        202, 400, 401, 409, 500, 503
//	GET  /{p}/v1_0/transfer/{referenceId}          200 with the status, 404
//	GET  /{p}/v1_0/account/balance                 {"availableBalance","currency"}
//	GET  /{p}/v1_0/accountholder/{type}/{id}/active {"result": bool}
//
// and the sandbox provisioning calls POST /v1_0/apiuser, POST /v1_0/apiuser/{id}/apikey and
// GET /v1_0/apiuser/{id}. Product calls check, in this order: the subscription key (401 with
// {"statusCode","message"}), the bearer token (401 {"code":"UNAUTHORIZED"}), the target
// environment (500 NOT_ALLOWED_TARGET_ENVIRONMENT). A transfer POST then checks
// X-Reference-Id (400 INVALID_REFERENCE_ID), the Content-Type and JSON (400
// INVALID_REQUEST), amount (400 INVALID_AMOUNT), currency (400 INVALID_CURRENCY when
// missing, 500 INVALID_CURRENCY when not the environment's), externalId (400
// INVALID_EXTERNAL_ID), payee (400 INVALID_PAYEE), payerMessage and payeeNote (400
// INVALID_PAYER_MESSAGE, INVALID_PAYEE_NOTE) and X-Callback-Url (400
// INVALID_CALLBACK_URL_HOST), and only then whether the reference ID was used (409).
//
// Statuses are computed from the clock when read, so the simulator needs no background work
// except callbacks. Payee MSISDNs follow the sandbox's newer test-number table (see
// ExpectedOutcome). Status answers vary, deterministically by reference ID, between the two
// forms MoMo has been seen to use: reason as a string or as {"code","message"}, and
// financialTransactionId as a string or a number.
//
// Faults (probabilities, see Faults) and deterministic injections (see InjectNext) make the
// simulator answer like a flaky MoMo; Stats.PaidTwice tells whether a client paid anybody
// twice. The /_sim/ endpoints expose the same controls over HTTP:
//
//	GET  /_sim/transfers                 JSON array of Transfer
//	GET  /_sim/stats                     JSON Stats
//	GET  /_sim/faults, PUT /_sim/faults  JSON Faults
//	POST /_sim/inject?kind=...&n=...     see InjectNext; n defaults to 1
//	PUT  /_sim/balance?product=...&amount=...
//	PUT  /_sim/token-ttl?d=3s
package momosim
