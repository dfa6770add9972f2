package momo

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinels wrapped by errors the client raises before sending anything.
var (
	// ErrNoSubscriptionKey means Config.SubscriptionKeys has no key for the product called.
	ErrNoSubscriptionKey = errors.New("momo: no subscription key configured for product")
	// ErrInvalidRequest means the call's arguments were refused before sending, e.g. a
	// reference ID that is not a version-4 UUID or a transfer without an amount.
	ErrInvalidRequest = errors.New("momo: invalid request")
)

// Error is an error response from the MoMo API (or from the gateway in front of it).
type Error struct {
	// Op names the call: "token", "create transfer", "get transfer", "get balance",
	// "get account holder", "create api user", "create api key".
	Op string
	// Method is the HTTP method of the refused request.
	Method string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is the MoMo reason code (RESOURCE_ALREADY_EXIST, NOT_ENOUGH_FUNDS, login_failed,
	// ...), empty when the body carried none.
	Code string
	// Message is the body's message, or a short cleaned snippet of a body that was not JSON.
	Message string
	// RetryAfter comes from a Retry-After header (seconds or HTTP date); 0 when absent.
	RetryAfter time.Duration

	// gateway is set when the body had the API gateway's {"statusCode","message"} shape,
	// which means MoMo itself never saw the request.
	gateway bool
}

// Error returns "momo: <op>: <status> <code>: <message>", leaving out what is empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("momo: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	switch {
	case e.Code != "":
		b.WriteString(" " + e.Code)
	case e.Message == "":
		b.WriteString(" " + http.StatusText(e.StatusCode))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return strings.TrimRight(b.String(), " ")
}

// Class is what the caller should do with an error.
type Class int

// The classes Classify returns.
const (
	// ClassNone is the class of a nil error.
	ClassNone Class = iota
	// ClassAmbiguous: a timeout, a connection error, EOF, 429, most 5xx, a cancelled context.
	// The request may have taken effect: ask for its status before sending it again.
	ClassAmbiguous
	// ClassConflict: a 409 RESOURCE_ALREADY_EXIST; the reference ID exists already.
	ClassConflict
	// ClassNotFound: a 404 on a GET; the resource (e.g. the transfer) is unknown.
	ClassNotFound
	// ClassRejected: MoMo refused this one request (400, 403 with a reason, 404 on a POST,
	// other 4xx); retrying it will not help.
	ClassRejected
	// ClassConfig: credentials or configuration are wrong (401, login_failed, wrong
	// subscription key, target environment, currency or callback host, IP not whitelisted).
	// Every call will fail alike: stop and report.
	ClassConfig
	// ClassInsufficientFunds: NOT_ENOUGH_FUNDS, whatever the status code. The account needs
	// topping up before payouts can continue.
	ClassInsufficientFunds
)

var classNames = [...]string{
	ClassNone:              "none",
	ClassAmbiguous:         "ambiguous",
	ClassConflict:          "conflict",
	ClassNotFound:          "not_found",
	ClassRejected:          "rejected",
	ClassConfig:            "config",
	ClassInsufficientFunds: "insufficient_funds",
}

// String returns the class's snake_case name, suitable as a metric label.
func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classify sorts err into a Class. Errors that carry no *Error and no sentinel of this
// package (transport errors, EOF, context errors, undecodable bodies) are ClassAmbiguous:
// the request may have been sent.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.class()
	case errors.Is(err, ErrConfig), errors.Is(err, ErrUnknownProduct),
		errors.Is(err, ErrNoSubscriptionKey):
		return ClassConfig
	case errors.Is(err, ErrInvalidRequest):
		return ClassRejected
	}
	return ClassAmbiguous
}

// IsNotFound reports whether err is a 404 for a missing resource (ClassNotFound).
func IsNotFound(err error) bool {
	return Classify(err) == ClassNotFound
}

// class maps the response to a Class; codes win over statuses, as MoMo reuses 400 and 500
// for very different reasons.
func (e *Error) class() Class {
	code := strings.ToUpper(e.Code)
	switch {
	case ReasonIsInsufficientFunds(code):
		return ClassInsufficientFunds
	case ReasonIsConfig(code):
		return ClassConfig
	case e.StatusCode == http.StatusConflict || code == "RESOURCE_ALREADY_EXIST":
		return ClassConflict
	case e.StatusCode == http.StatusUnauthorized:
		return ClassConfig
	case e.StatusCode == http.StatusNotFound && e.Method != http.MethodPost:
		return ClassNotFound
	case e.StatusCode == http.StatusForbidden && (code == "" || e.gateway):
		// NOTE: a 403 without a MoMo reason comes from the gateway (IP not whitelisted,
		// product not subscribed), not from a decision about this payout.
		return ClassConfig
	case e.StatusCode >= 400 && e.StatusCode < 500 && mentionsIPFilter(e.Message):
		// NOTE: a missing IP whitelisting has also been reported as a 400.
		return ClassConfig
	}
	return classByStatus(e.StatusCode)
}

func classByStatus(status int) Class {
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return ClassAmbiguous
	case status >= 400 && status < 500:
		return ClassRejected
	case status >= 300 && status < 400:
		// A redirect means the base URL is wrong (http instead of https, an old host).
		return ClassConfig
	}
	// 5xx, and any unexpected 1xx or 2xx: the outcome is unknown.
	return ClassAmbiguous
}

func mentionsIPFilter(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "whitelist") || strings.Contains(m, "white list") ||
		strings.Contains(m, "ip address")
}

// errorf wraps a transport or decoding error with the call's context.
func errorf(op string, err error) error {
	return fmt.Errorf("momo: %s: %w", op, err)
}
