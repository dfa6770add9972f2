package batch

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseColumnMap_ReadsTheFlagForm(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"msisdn=Mobile Number,amount=Amount",
			map[string]string{"msisdn": "Mobile Number", "amount": "Amount"}},
		{" MSISDN = Mobile Number , External ID=Ref ",
			map[string]string{"msisdn": "Mobile Number", "external_id": "Ref"}},
		{`msisdn=Phone,"name=Last, First"`,
			map[string]string{"msisdn": "Phone", "name": "Last, First"}},
		{"payer_message=Motif=Raison", map[string]string{"payer_message": "Motif=Raison"}},
		{"", nil},
		{"   ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseColumnMap(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseColumnMap_RefusesWithAReason(t *testing.T) {
	tests := []struct{ in, want string }{
		{"msisdn", `batch: column map: "msisdn" is not field=header`},
		{"msisdn=", `batch: column map: "msisdn=" is not field=header`},
		{"=Phone", `batch: column map: "=Phone" is not field=header`},
		{"phone=Mobile", `batch: column map: unknown field "phone" (fields: msisdn, amount, ` +
			"currency, external_id, payer_message, payee_note, name, party_id_type)"},
		{"msisdn=A,MSISDN=B", "batch: column map: field msisdn is mapped twice"},
		{"msisdn=Phone,name=phone", `batch: column map: fields msisdn and name are mapped ` +
			`to the same header "phone"`},
		{"msisdn=A\namount=B", "batch: column map: must be a single line"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseColumnMap(tt.in)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestReader_MappedColumnsTakePrecedenceOverAliases(t *testing.T) {
	in := "Phone,Mobile Number,Montant,currency\n111111111111,256772123456,10,UGX\n"
	r, err := NewReader(strings.NewReader(in), Options{ColumnMap: map[string]string{
		"msisdn": "mobile_number", "amount": "MONTANT"}})
	require.NoError(t, err, "Phone is an alias of msisdn but msisdn is mapped: no duplicate")

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "256772123456", row.PartyID)
	assert.Equal(t, int64(10), row.Amount.Minor)
}

func TestReader_MappedCellIsNotTakenByAnAlias(t *testing.T) {
	in := "msisdn,amount,currency,Reference,Ref\n256772123456,10,UGX,Alice,r-1\n"
	r, err := NewReader(strings.NewReader(in), Options{ColumnMap: map[string]string{
		"name": "reference", "external_id": "ref"}})
	require.NoError(t, err)

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "Alice", row.Name)
	assert.Equal(t, "r-1", row.ExternalID)
}

func TestReader_ColumnMapErrors(t *testing.T) {
	header := "Phone;Montant;Montant;currency\n"
	tests := []struct {
		cmap map[string]string
		want string
	}{
		{map[string]string{"mobile": "Phone"}, `batch: options: column map: unknown field ` +
			`"mobile" (fields: msisdn, amount, currency, external_id, payer_message, ` +
			"payee_note, name, party_id_type)"},
		{map[string]string{"msisdn": " "}, "batch: options: column map: field msisdn has no " +
			"header text"},
		{map[string]string{"amount": "Amount"}, `batch: f.csv: line 1: column map: amount is ` +
			`mapped to "Amount", which the header lacks`},
		{map[string]string{"amount": "montant"}, "batch: f.csv: line 1: column map: amount: " +
			"header cells 2 and 3 both match"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(header), Options{File: "f.csv",
				ColumnMap: tt.cmap})
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}
