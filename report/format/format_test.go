package format

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNumber(t *testing.T) {
	t.Parallel()
	cases := []struct {
		lang Lang
		v    float64
		dec  int
		want string
	}{
		{EN, 1.234, 2, "1.23"},
		{IT, 1.234, 2, "1,23"},
		{EN, 1.235, 2, "1.24"}, // 1.235 is stored as 1.2350000000000000977
		{EN, -0.001, 2, "0.00"},
		{EN, -1.5, 1, "-1.5"},
		{IT, -1.5, 1, "-1,5"},
		{EN, 2019, 0, "2,019"},
		{EN, 999, 0, "999"},
		{EN, 12345, 0, "12,345"},
		{IT, 12345.678, 1, "12.345,7"},
		{EN, 1234567, 0, "1,234,567"},
		{EN, math.NaN(), 2, "NA"},
		{EN, math.Inf(1), 2, "NA"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Number(c.lang, c.v, c.dec), "%v %v %d", c.lang, c.v, c.dec)
	}
}

func TestRatiosAndP(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1.23 (1.05–1.45)", RatioCI(EN, 1.2345, 1.049, 1.451))
	require.Equal(t, "1,23 (1,05–1,45)", RatioCI(IT, 1.2345, 1.049, 1.451))
	require.Equal(t, "< 0.001", P(EN, 0.0004))
	require.Equal(t, "< 0,001", P(IT, 1e-12))
	require.Equal(t, "0.001", P(EN, 0.001))
	require.Equal(t, "0.049", P(EN, 0.0494))
	require.Equal(t, "1.000", P(EN, 1))
	require.Equal(t, "NA", P(EN, math.NaN()))
}

func TestCount(t *testing.T) {
	t.Parallel()
	n4, n5, n0 := 4, 5, 0
	require.Equal(t, "<5", Count(EN, nil, 5))
	require.Equal(t, "<5", Count(EN, &n4, 5))
	require.Equal(t, "<5", Count(EN, &n0, 5))
	require.Equal(t, "5", Count(EN, &n5, 5))
	require.Equal(t, "4", Count(EN, &n4, 0))
	require.Equal(t, "NA", Count(EN, nil, 0))
}

func TestDate(t *testing.T) {
	t.Parallel()
	require.Equal(t, "31 Dec 2019", Date(EN, "2019-12-31"))
	require.Equal(t, "1 gen 2013", Date(IT, "2013-01-01"))
	require.Equal(t, "‹year›", Date(IT, "‹year›"))
}

func TestAttritionLabel(t *testing.T) {
	t.Parallel()
	args := []string{"2013-01-01", "2018-12-31"}
	require.Equal(t, "day 0 in the accrual period (1 Jan 2013 to 31 Dec 2018)", AttritionLabel(EN, "x", "accrual", args))
	require.Equal(t, "giorno 0 nel periodo di arruolamento (dal 1 gen 2013 al 31 dic 2018)", AttritionLabel(IT, "x", "accrual", args))
	require.Equal(t, "iscritto all'anagrafe nei giorni da -1.095 a 0", AttritionLabel(IT, "x", "enrolled", []string{"-1095", "0"}))
	require.Equal(t, "in vita al giorno 0", AttritionLabel(IT, "alive on day 0", "alive", nil))
	// A criterion (no key), an unknown key or a wrong argument count keep the text.
	require.Equal(t, "no AMI", AttritionLabel(IT, "no AMI", "", nil))
	require.Equal(t, "t", AttritionLabel(IT, "t", "later_key", nil))
	require.Equal(t, "t", AttritionLabel(IT, "t", "accrual", []string{"2013-01-01"}))
}

// TestMessagesComplete checks that every key the report and chart packages
// pass to T is in the table with an English and an Italian text.
func TestMessagesComplete(t *testing.T) {
	t.Parallel()
	for k, m := range messages {
		require.NotEmpty(t, m[0], "key %q has no English text", k)
		require.NotEmpty(t, m[1], "key %q has no Italian text", k)
	}
	re := regexp.MustCompile(`\.[tT]\("([a-z0-9_]+)"\)`)
	files, err := filepath.Glob("../*.go")
	require.NoError(t, err)
	more, err := filepath.Glob("../chart/*.go")
	require.NoError(t, err)
	used := 0
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllSubmatch(b, -1) {
			used++
			require.True(t, Has(string(m[1])), "%s: message %q is not in the table", f, m[1])
		}
	}
	require.Positive(t, used)
}

// update is accepted (go test ./report/... -update) though this package
// has no golden files.
var _ = flag.Bool("update", false, "no golden files in this package")
