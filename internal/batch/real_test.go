package batch

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rowSummary is what TestReader_RealExports checks of each accepted row.
type rowSummary struct {
	Line               int
	PartyID, Amount    string
	Name, Message, Ext string
	Note               string
	Warnings           []string
}

func summarise(rows []Row) []rowSummary {
	out := make([]rowSummary, len(rows))
	for i, r := range rows {
		out[i] = rowSummary{Line: r.Line, PartyID: r.PartyID,
			Amount: r.Amount.Currency + " " + r.Amount.String(), Name: r.Name,
			Message: r.PayerMessage, Ext: r.ExternalID, Note: r.PayeeNote, Warnings: r.Warnings}
	}
	return out
}

func rejectFields(rejects []*RowError) map[int][]FieldError {
	out := map[int][]FieldError{}
	for _, e := range rejects {
		out[e.Line] = e.Fields
	}
	return out
}

func TestReader_RealExports(t *testing.T) {
	tests := []struct {
		file      string
		opt       Options
		encoding  string
		header    []string
		rows      []rowSummary
		rejects   map[int][]FieldError
		skipped   int
		headerErr string
	}{
		{
			file: "excel_fr_windows1252.csv",
			opt: Options{Country: "CI", TargetEnvironment: "mtnivorycoast", DecimalComma: true,
				ColumnMap: map[string]string{"msisdn": "Téléphone", "amount": "Montant",
					"currency": "Devise", "name": "Nom", "payer_message": "Motif",
					"external_id": "Référence"}},
			encoding: EncodingWindows1252,
			header:   []string{"Téléphone", "Montant", "Devise", "Nom", "Motif", "Référence"},
			rows: []rowSummary{
				{Line: 2, PartyID: "2250707123456", Amount: "XOF 25000", Name: "Kouassi Adjoua",
					Message: "Salaire décembre", Ext: "CI-0001"},
				{Line: 3, PartyID: "2250505987654", Amount: "XOF 150000", Name: "Koné Aïcha",
					Message: "Prime dété", Ext: "CI-0002",
					Warnings: []string{`line 3, column payer_message: removed "'"`}},
				{Line: 4, PartyID: "2250102030405", Amount: "XOF 12500", Name: "N'Guessan Émile",
					Message: "Salaire", Ext: "CI-0003"},
			},
			rejects: map[int][]FieldError{
				5: {{"msisdn", "phone number 707123456 does not fit CI numbering (225 and 10 " +
					"digits starting with 0); a spreadsheet may have dropped its leading 0: " +
					"format the column as text"}},
				6: {{"amount", "amount has 1 decimal, XOF allows 0"}},
			},
		},
		{
			file:     "excel_unicode_text_utf16le.txt",
			opt:      Options{Country: "UG", TargetEnvironment: "mtnuganda"},
			encoding: EncodingUTF16LE,
			header:   []string{"Phone Number", "Amount", "Currency", "Name", "Payer Message"},
			rows: []rowSummary{
				{Line: 2, PartyID: "256772123456", Amount: "UGX 1500", Name: "Amara Ọkafor",
					Message: "December salary"},
				{Line: 3, PartyID: "256772123457", Amount: "UGX 2500", Name: "Łukasz Nowak",
					Message: "December salary"},
			},
			rejects: map[int][]FieldError{
				4: {{"amount", `amount "12,5" has a ',' that does not separate groups of 3 ` +
					"digits; use -decimal-comma if the file uses decimal commas"}},
			},
		},
		{
			file:     "guidance_line.csv",
			opt:      Options{HeaderLine: 3},
			encoding: EncodingUTF8,
			header:   []string{"msisdn", "amount", "currency", "name", "payer_message"},
			rows: []rowSummary{
				{Line: 4, PartyID: "256772123456", Amount: "UGX 1500", Name: "Alice Nakato",
					Message: "December salary"},
				{Line: 5, PartyID: "256772123457", Amount: "UGX 2500", Name: "Okello Brian",
					Message: "December salary"},
			},
		},
		{
			file: "guidance_line.csv",
			headerErr: "batch: real/guidance_line.csv: line 1: missing required columns msisdn, " +
				"amount, currency; if the header is not the first line, set -header-line",
		},
		{
			file:     "trailing_empty.csv",
			encoding: EncodingUTF8,
			header:   []string{"msisdn", "amount", "currency", "name"},
			rows: []rowSummary{
				{Line: 2, PartyID: "256772123456", Amount: "UGX 1500", Name: "Alice"},
				{Line: 3, PartyID: "256772123457", Amount: "UGX 2500", Name: "Brian"},
			},
		},
		{
			file:     "repeated_header.csv",
			encoding: EncodingUTF8,
			header:   []string{"msisdn", "amount", "currency", "name"},
			rows: []rowSummary{
				{Line: 2, PartyID: "256772123456", Amount: "UGX 1500", Name: "Alice"},
				{Line: 3, PartyID: "256772123457", Amount: "UGX 2500", Name: "Brian"},
				{Line: 5, PartyID: "256772123458", Amount: "UGX 3500", Name: "Carol"},
				{Line: 8, PartyID: "256772123460", Amount: "UGX 4500", Name: "Eve"},
			},
			rejects: map[int][]FieldError{7: {{"amount", "amount is not a decimal number"}}},
			skipped: 2,
		},
		{
			file:     "quoted_newlines.csv",
			opt:      Options{Country: "UG"},
			encoding: EncodingUTF8,
			header:   []string{"msisdn", "amount", "currency", "payer_message", "payee_note"},
			rows: []rowSummary{
				{Line: 2, PartyID: "256772123456", Amount: "UGX 1500", Message: "December salary",
					Note: "Thank you\nfor your work"},
				{Line: 4, PartyID: "256772123457", Amount: "UGX 2500", Message: "Bonus, Q4",
					Note:     "Line one\nline two\nline three",
					Warnings: []string{`line 4, column payer_message: removed '"'`}},
				{Line: 8, PartyID: "256772123459", Amount: "UGX 100", Message: "Salary",
					Note: "multi\n\nline with a blank one"},
				{Line: 11, PartyID: "256772123460", Amount: "UGX 100", Message: "Salary",
					Note: "Note"},
			},
			rejects: map[int][]FieldError{7: {{"amount", "amount is not a decimal number"}}},
		},
		{
			file:     "google_sheets_scientific.csv",
			opt:      Options{TargetEnvironment: "sandbox"},
			encoding: EncodingUTF8,
			header:   []string{"Phone", "Amount", "Currency", "Name", "Payer Message"},
			rows: []rowSummary{
				{Line: 2, PartyID: "46733123450", Amount: "EUR 1500", Name: "Test Failed",
					Message:  "Bonus and thanks",
					Warnings: []string{"line 2, column payer_message: replaced '&' with 'and'"}},
				{Line: 5, PartyID: "256772123456", Amount: "EUR 2000", Name: "Alice",
					Message: "Salary"},
				{Line: 6, PartyID: "256772123457", Amount: "EUR 12.50", Name: "Bob",
					Message: "Salary"},
			},
			rejects: map[int][]FieldError{
				3: {{"msisdn", "phone number in scientific notation lost digits; format the " +
					"column as text"}},
				4: {{"msisdn", "phone number in scientific notation lost digits; format the " +
					"column as text"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := openFile(t, filepath.Join("real", tt.file), tt.opt)
			if tt.headerErr != "" {
				var headerErr *HeaderError
				require.ErrorAs(t, err, &headerErr)
				assert.Equal(t, tt.headerErr, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.encoding, r.Encoding())
			assert.Equal(t, tt.header, r.Header())

			rows, rejects := readAll(t, r)
			assert.Equal(t, tt.rows, summarise(rows))
			if tt.rejects == nil {
				tt.rejects = map[int][]FieldError{}
			}
			assert.Equal(t, tt.rejects, rejectFields(rejects))
			assert.Equal(t, tt.skipped, r.SkippedHeaders())
			assert.Equal(t, len(tt.rows)+len(tt.rejects), r.RowsRead())
		})
	}
}
