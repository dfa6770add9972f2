package money

import (
	"slices"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	currencies := slices.Sorted(func(yield func(string) bool) {
		for cur := range minorUnits {
			if !yield(cur) {
				return
			}
		}
	})
	for _, s := range []string{"1500", "1500.5", "1500.50", "0.05", "01500", "1,500", "1e5",
		"-5", "", ".5", "5.", "999999999999999.99", "1000000000000000", "0.00", "١٢"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(5))
	}

	f.Fuzz(func(t *testing.T, s string, index uint8) {
		cur := currencies[int(index)%len(currencies)]
		a, err := Parse(s, strings.ToLower(cur))
		if err != nil {
			return
		}
		if a.Minor <= 0 || a.Currency != cur {
			t.Fatalf("Parse(%q, %s) = %+v: not a positive %s amount", s, cur, a, cur)
		}
		again, err := Parse(a.String(), cur)
		if err != nil || again != a {
			t.Fatalf("Parse(%q, %s) = %+v, whose String %q reads back as %+v, %v",
				s, cur, a, a.String(), again, err)
		}
	})
}
