package momo

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// maxErrorBody caps how much of an error response is read.
	maxErrorBody = 64 << 10
	// maxBody caps how much of a successful response is read.
	maxBody = 1 << 20
	// maxMessage caps, in runes, the message kept in an Error.
	maxMessage = 200
	// maxRetryAfter caps a Retry-After hint, so an absurd header cannot overflow or stall.
	maxRetryAfter = 24 * time.Hour
)

// errorBody is what an error response said, whatever its shape.
type errorBody struct {
	code, message string
	gateway       bool
}

// parseErrorBody reads {"code","message"}, {"error": ...}, the gateway's
// {"statusCode","message"}, {"message"} alone, an empty body and non-JSON text.
func parseErrorBody(body []byte) errorBody {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return errorBody{}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return errorBody{message: snippet(body)}
	}

	eb := errorBody{
		code:    jsonText(fields["code"]),
		message: jsonText(fields["message"]),
		gateway: fields["statusCode"] != nil,
	}
	if eb.code == "" {
		eb.code, eb.message = codeFrom(fields["error"], eb.message)
	}
	if eb.code == "" {
		eb.code, eb.message = codeFrom(fields["reason"], eb.message)
	}
	if eb.message == "" {
		eb.message = jsonText(fields["error_description"])
	}
	if eb.code == "" && eb.message == "" {
		eb.message = snippet(body)
	}
	eb.message = clip(eb.message)
	return eb
}

// codeFrom reads a field that holds either a code ("login_failed"), free text, or an object
// {"code","message"}. msg is kept unless empty.
func codeFrom(raw json.RawMessage, msg string) (string, string) {
	var obj struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
	}
	if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &obj) == nil {
		return jsonText(obj.Code), firstNonEmpty(msg, jsonText(obj.Message))
	}
	text := jsonText(raw)
	if looksLikeCode(text) {
		return text, msg
	}
	return "", firstNonEmpty(msg, text)
}

// jsonText returns a JSON string's value or a number's or boolean's literal; "" otherwise.
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' || string(raw) == "null" {
		return ""
	}
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	return string(raw)
}

// looksLikeCode reports whether s is a single token of letters, digits and underscores,
// like NOT_ENOUGH_FUNDS or login_failed, rather than a sentence.
func looksLikeCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// snippet turns a body that is not JSON (an HTML page from a proxy, plain text) into one
// short line: the HTML title if any, else the text without tags.
func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	if title := htmlTitle(s); title != "" {
		s = title
	} else {
		s = stripTags(s)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, html.UnescapeString(s))
	return clip(strings.Join(strings.Fields(s), " "))
}

func htmlTitle(s string) string {
	lower := strings.ToLower(s)
	start := strings.Index(lower, "<title")
	if start < 0 {
		return ""
	}
	open := strings.IndexByte(lower[start:], '>')
	if open < 0 {
		return ""
	}
	start += open + 1
	end := strings.Index(lower[start:], "</title")
	if end < 0 {
		return ""
	}
	return strings.TrimSpace(s[start : start+end])
}

func stripTags(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			b.WriteByte(' ')
		case !inTag:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clip shortens s to maxMessage runes.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxMessage {
		return s
	}
	return string([]rune(s)[:maxMessage]) + "…"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// retryAfter reads a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return min(time.Duration(min(secs, int64(maxRetryAfter/time.Second)))*time.Second,
			maxRetryAfter)
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0
	}
	return min(t.Sub(now), maxRetryAfter)
}
