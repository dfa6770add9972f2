package httpapi

import (
	"bytes"
	"encoding/json"
	"regexp"
	"unicode/utf8"

	"github.com/hibiken/asynqmon"

	"github.com/momopay/payout/internal/tasks"
)

// minMaskedDigits is the shortest run of digits masked in the monitor: a phone number with
// its country code has at least that many.
const minMaskedDigits = 8

// PayloadFormatter shows task payloads in the monitor as JSON with every phone-like number
// masked (see MaskDigits). The payout tasks carry only batch, ref, product and seq, so it
// masks nothing today; it is there so that a field added tomorrow cannot leak a number.
var PayloadFormatter = asynqmon.PayloadFormatterFunc(FormatPayload)

// ResultFormatter shows task results like PayloadFormatter shows payloads.
var ResultFormatter = asynqmon.ResultFormatterFunc(FormatPayload)

// FormatPayload returns payload as compact JSON with phone-like numbers masked in keys,
// strings and numbers. A payload that is not JSON is shown as text, masked the same way.
func FormatPayload(_ string, payload []byte) string {
	if len(payload) == 0 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if out, err := json.Marshal(maskValue(v)); err == nil {
			return string(out)
		}
	}
	if !utf8.Valid(payload) {
		return "non-printable bytes"
	}
	return MaskDigits(string(payload))
}

// maskValue masks every key and value of a decoded JSON document.
func maskValue(v any) any {
	switch x := v.(type) {
	case string:
		return MaskDigits(x)
	case json.Number:
		if masked := MaskDigits(x.String()); masked != x.String() {
			return masked // a number no longer: show it as a string
		}
		return x
	case []any:
		for i := range x {
			x[i] = maskValue(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[MaskDigits(k)] = maskValue(val)
		}
		return out
	}
	return v
}

var (
	digitRun = regexp.MustCompile(`[0-9]+`)
	uuidLike = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
)

// MaskDigits masks, in s, every run of 8 or more digits, as logs mask phone numbers
// (46733123450 becomes 4673****450). A run inside a UUID (a reference ID) or inside a longer
// hexadecimal token (the hash in a batch ID) is an identifier, not a number, and is kept, so
// that the monitor still shows those IDs whole; "msisdn46733123450" is masked.
func MaskDigits(s string) string {
	runs := digitRun.FindAllStringIndex(s, -1)
	if len(runs) == 0 {
		return s
	}
	ids := uuidLike.FindAllStringIndex(s, -1)
	var b []byte
	last := 0
	for _, r := range runs {
		start, end := r[0], r[1]
		if end-start < minMaskedDigits || partOfToken(s, start, end) || within(ids, start, end) {
			continue
		}
		b = append(b, s[last:start]...)
		b = append(b, tasks.MaskMSISDN(s[start:end])...)
		last = end
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// partOfToken reports whether the digits s[start:end] are part of a longer token of hex
// digits, such as a hash.
func partOfToken(s string, start, end int) bool {
	from, to := start, end
	for from > 0 && isAlnum(s[from-1]) {
		from--
	}
	for to < len(s) && isAlnum(s[to]) {
		to++
	}
	if from == start && to == end {
		return false
	}
	for i := from; i < to; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(b byte) bool { return isHex(b) || (b|0x20) >= 'g' && (b|0x20) <= 'z' }

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || (b|0x20) >= 'a' && (b|0x20) <= 'f'
}

// within reports whether [start, end) lies inside one of spans.
func within(spans [][]int, start, end int) bool {
	for _, sp := range spans {
		if start >= sp[0] && end <= sp[1] {
			return true
		}
	}
	return false
}
