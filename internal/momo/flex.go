package momo

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// flexString decodes a JSON string or a JSON number into a string. A number keeps its exact
// literal (46733123450 stays "46733123450", never 4.673312345e+10). null decodes to "".
//
// NOTE: MoMo sends amount, financialTransactionId, externalId and partyId sometimes as
// strings and sometimes as numbers.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %.20s", b)
		}
		*f = flexString(n.String())
	}
	return nil
}

// flexReason decodes a reason given as a string ("NOT_ENOUGH_FUNDS") or as an object
// {"code": "NOT_ENOUGH_FUNDS", "message": "..."}.
type flexReason struct {
	Code    string
	Message string
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *flexReason) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		var s flexString
		if err := s.UnmarshalJSON(b); err != nil {
			return err
		}
		*r = flexReason{Code: string(s)}
		return nil
	}
	var obj struct {
		Code    flexString `json:"code"`
		Message flexString `json:"message"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*r = flexReason{Code: string(obj.Code), Message: string(obj.Message)}
	return nil
}

// flexBool decodes true/false or the strings "true"/"false".
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	var v bool
	if err := json.Unmarshal(b, &v); err == nil {
		*f = flexBool(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil || (s != "true" && s != "false") {
		return fmt.Errorf("want a boolean, got %.20s", b)
	}
	*f = s == "true"
	return nil
}
