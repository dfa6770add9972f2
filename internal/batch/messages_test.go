package batch

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readMessage reads one row whose payer_message cell is msg.
func readMessage(t *testing.T, msg string, opt Options) (Row, error) {
	t.Helper()
	in := "msisdn,amount,currency,payer_message\n256772123456,10,UGX,\"" +
		strings.ReplaceAll(msg, `"`, `""`) + "\"\n"
	opt.File = "pay.csv"
	r, err := NewReader(strings.NewReader(in), opt)
	require.NoError(t, err)
	return r.Next()
}

func TestReader_BonusAndThanks(t *testing.T) {
	row, err := readMessage(t, "Bonus & thanks", Options{})
	require.NoError(t, err)
	assert.Equal(t, "Bonus and thanks", row.PayerMessage)
	assert.Equal(t, []string{"line 2, column payer_message: replaced '&' with 'and'"},
		row.Warnings)
}

func TestReader_MessagesLoseTheCharactersMoMoRefuses(t *testing.T) {
	tests := []struct {
		in, want string
		warnings []string
	}{
		{"R&D", "R and D", []string{"replaced '&' with 'and'"}},
		{"&Co", "and Co", []string{"replaced '&' with 'and'"}},
		{"Bonus &amp; more", "Bonus and amp; more", []string{"replaced '&' with 'and'"}},
		{"Don't", "Dont", []string{`removed "'"`}},
		{"l’équipe ‘A’", "léquipe A", []string{"removed '’'", "removed '‘'"}},
		{`Pay "Q4" <now>`, "Pay Q4 now",
			[]string{`removed '"'`, "removed '<'", "removed '>'"}},
		{"“Merci” & à bientôt", "Merci and à bientôt",
			[]string{"removed '“'", "removed '”'", "replaced '&' with 'and'"}},
		{"é&b", "é and b", []string{"replaced '&' with 'and'"}},
		{"Salary — December", "Salary — December", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			row, err := readMessage(t, tt.in, Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, row.PayerMessage)
			var want []string
			for _, w := range tt.warnings {
				want = append(want, "line 2, column payer_message: "+w)
			}
			assert.Equal(t, want, row.Warnings)
		})
	}
}

func TestReader_StrictMessagesRefuseInsteadOfReplacing(t *testing.T) {
	_, err := readMessage(t, "Bonus & thanks, don't", Options{StrictMessages: true})

	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, `batch: pay.csv: line 2, column payer_message: payer_message contains `+
		`'&', "'", which MoMo has been reported to refuse`, err.Error())
}

func TestReader_PayeeNoteFollowsTheSameRule(t *testing.T) {
	in := "msisdn,amount,currency,payee_note\n256772123456,10,UGX,Thanks & bye\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "Thanks and bye", row.PayeeNote)
	assert.Equal(t, []string{"line 2, column payee_note: replaced '&' with 'and'"}, row.Warnings)
}

func TestReader_MessageLengthCountsTheReplacement(t *testing.T) {
	_, err := readMessage(t, strings.Repeat("x", 158)+"&", Options{})

	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, []FieldError{{"payer_message",
		"payer_message has 162 characters, at most 160 allowed"}}, rowErr.Fields)
}

func TestReader_NamesAndExternalIDsKeepApostrophes(t *testing.T) {
	in := "msisdn,amount,currency,name,external_id\n256772123456,10,UGX,N'Guessan & Co,a&b\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "N'Guessan & Co", row.Name, "names are not sent to MoMo")
	assert.Equal(t, "a&b", row.ExternalID)
	assert.Nil(t, row.Warnings)
}
