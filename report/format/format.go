// Package format writes the numbers and labels of Beaver's reports and
// charts in one way everywhere: English or Italian, decimal point or comma,
// hazard ratios to two decimals, intervals as "(1.23–1.45)", p-values with
// the "< 0.001" rule, counts below the minimum cell count as "<5".
package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Lang is the language of a report or chart.
type Lang string

// The languages Beaver writes.
const (
	EN Lang = "en"
	IT Lang = "it"
)

// ParseLang reads "en" or "it" (the empty string is English).
func ParseLang(s string) (Lang, error) {
	switch s {
	case "", "en":
		return EN, nil
	case "it":
		return IT, nil
	}
	return EN, fmt.Errorf("format: unknown language %q (use \"en\" or \"it\")", s)
}

// NA is how a value that could not be estimated is written.
const NA = "NA"

// Number writes v with the given number of decimals: a decimal point in
// English and a comma in Italian; digits grouped by three (",", Italian
// ".") from 1,000 on, so that a column of counts reads alike (years are
// labels, not numbers: do not write them with it). NaN and infinities are
// NA. It is the one function through which every number of a report is
// written.
func Number(lang Lang, v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return NA
	}
	if decimals < 0 {
		decimals = 0
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
		if strings.Trim(s, "0.") == "" { // -0.00 is 0.00
			neg = false
		}
	}
	intPart, frac, _ := strings.Cut(s, ".")
	point, sep := ".", ","
	if lang == IT {
		point, sep = ",", "."
	}
	if len(intPart) >= 4 {
		var b strings.Builder
		for i, c := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteString(sep)
			}
			b.WriteRune(c)
		}
		intPart = b.String()
	}
	if neg {
		intPart = "-" + intPart // ASCII, so that numbers copy into other software
	}
	if frac == "" {
		return intPart
	}
	return intPart + point + frac
}

// Int writes a whole number (a count) with Number's grouping.
func Int(lang Lang, n int) string { return Number(lang, float64(n), 0) }

// Ratio writes a hazard, odds or rate ratio: two decimals.
func Ratio(lang Lang, v float64) string { return Number(lang, v, 2) }

// CI writes a confidence interval as "(1.23–1.45)" (an en dash between the
// limits) with the given decimals.
func CI(lang Lang, lower, upper float64, decimals int) string {
	return "(" + Number(lang, lower, decimals) + "–" + Number(lang, upper, decimals) + ")"
}

// RatioCI writes a ratio and its interval, "1.23 (1.05–1.45)".
func RatioCI(lang Lang, v, lower, upper float64) string {
	return Ratio(lang, v) + " " + CI(lang, lower, upper, 2)
}

// P writes a p-value: "< 0.001" below 0.001, otherwise three decimals
// ("0.049", "1.000"). NaN is NA.
func P(lang Lang, p float64) string {
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return NA
	}
	if p < 0.001 {
		return "< " + Number(lang, 0.001, 3)
	}
	return Number(lang, p, 3)
}

// Percent writes a percentage with one decimal and no sign ("12.5").
func Percent(lang Lang, v float64) string { return Number(lang, v, 1) }

// Suppressed is how a count below the minimum cell count k is shown: "<5".
func Suppressed(k int) string { return "<" + strconv.Itoa(k) }

// Count writes a count that the results document may have suppressed: nil,
// or a value below minCount, is Suppressed(minCount); minCount 0 shows every
// count (and nil as NA).
func Count(lang Lang, n *int, minCount int) string {
	switch {
	case n == nil && minCount > 0:
		return Suppressed(minCount)
	case n == nil:
		return NA
	case *n < minCount:
		return Suppressed(minCount)
	}
	return Int(lang, *n)
}

// Auto writes v with as many decimals as its size calls for (axis labels,
// rates): 0 from 100 up, 1 from 10, 2 from 1, 3 below. Integers have none.
func Auto(lang Lang, v float64) string {
	a := math.Abs(v)
	switch {
	case v == math.Trunc(v) && a < 1e15:
		return Number(lang, v, 0)
	case a >= 100:
		return Number(lang, v, 0)
	case a >= 10:
		return Number(lang, v, 1)
	case a >= 1:
		return Number(lang, v, 2)
	}
	return Number(lang, v, 3)
}

// Date writes an ISO date "2019-12-31" as the language writes it:
// "31 Dec 2019" or "31 dic 2019". Anything else is returned unchanged.
func Date(lang Lang, iso string) string {
	if len(iso) != 10 || iso[4] != '-' || iso[7] != '-' {
		return iso
	}
	m, err := strconv.Atoi(iso[5:7])
	if err != nil || m < 1 || m > 12 {
		return iso
	}
	d, err := strconv.Atoi(iso[8:10])
	if err != nil {
		return iso
	}
	months := monthsEN
	if lang == IT {
		months = monthsIT
	}
	return strconv.Itoa(d) + " " + months[m-1] + " " + iso[:4]
}

var (
	monthsEN = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	monthsIT = [12]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"}
)
