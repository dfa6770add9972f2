package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/momopay/payout/internal/httpapi"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

func TestFormatPayload_ShowsTaskPayloadsWhole(t *testing.T) {
	// A reference ID can hold long digit runs, and so can the hash in a batch ID.
	ref := "60123456-3b4d-4e5f-8a9b-123456789012"
	task := tasks.NewPollTask(momo.Disbursement, "payroll-3f9a12345678", ref, 2, 0, tasks.Options{})

	got := httpapi.FormatPayload(task.Type(), task.Payload())

	assert.JSONEq(t, `{"batch":"payroll-3f9a12345678","ref":"`+ref+`","product":"disbursement","seq":2}`, got)
}

func TestFormatPayload_MasksPhoneNumbersWherePresent(t *testing.T) {
	payload := `{"msisdn":"46733123450","n":256772123456,"note":"call +256772123456 now",
		"rows":[{"tel:0772123456":1}],"amount":"1500","seq":3}`

	got := httpapi.FormatPayload("payout:disbursement", []byte(payload))

	assert.JSONEq(t, `{"msisdn":"4673****450","n":"2567*****456","note":"call +2567*****456 now",
		"rows":[{"tel:0772***456":1}],"amount":"1500","seq":3}`, got)
	for _, number := range []string{"46733123450", "256772123456", "0772123456"} {
		assert.NotContains(t, got, number)
	}
}

func TestFormatPayload_NotJSON(t *testing.T) {
	assert.Equal(t, "pay 4673****450 today",
		httpapi.FormatPayload("x", []byte("pay 46733123450 today")))
	assert.Equal(t, "non-printable bytes", httpapi.FormatPayload("x", []byte{0xff, 0xfe, 0x01}))
	assert.Equal(t, "", httpapi.FormatPayload("x", nil))
	assert.Equal(t, `{"a":1} 4673****450`, httpapi.FormatPayload("x", []byte(`{"a":1} 46733123450`)),
		"JSON followed by more is text")
}

func TestMaskDigits(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1234567", "1234567"},                     // too short for a phone number
		{"12345678", "123**678"},                   // eight digits: masked
		{"msisdn46733123450", "msisdn4673****450"}, // a word is no hash
		{"hash 3f9a12345678ab", "hash 3f9a12345678ab"},
		{"6f1c8a2e-3b4d-4e5f-8a9b-000012345678", "6f1c8a2e-3b4d-4e5f-8a9b-000012345678"},
		{"46733123450,46733123451", "4673****450,4673****451"},
		{"payroll-20260115", "payroll-202**115"}, // a date looks like a number: masked too
		{"", ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, httpapi.MaskDigits(tc.in), tc.in)
	}
}
