package results_test

import (
	"fmt"

	"github.com/beaver-analytics/beaver/report/results"
)

// Decode types each analysis's result by its kind; a type switch takes it
// apart.
func ExampleDecode() {
	doc, err := results.Decode([]byte(`{"protocol_hash": "h", "data_version": 1, "data_end": "2019-12-31",
		"software_version": "beaver v1", "min_count": 5, "attrition": [],
		"analyses": {
			"crude": {"kind": "cox", "outcome": "ami", "form": "baseline", "result": {"model": "cox", "n": 120, "events": 14,
				"coefficients": [{"term": "exposure=A", "coef": 0.25, "hr": 1.284, "hr_lower": 0.6, "hr_upper": 2.7, "p": 0.52}]}},
			"incidence": {"kind": "rates", "outcome": "ami", "result": null, "error": "no entry has follow-up"}},
		"warnings": []}`))
	if err != nil {
		panic(err)
	}
	for _, name := range doc.AnalysisNames() {
		a := doc.Analyses[name]
		switch r := a.Result.(type) {
		case *results.Cox:
			fmt.Printf("%s: %d events, HR %s %.3f\n", name, *r.Events, r.Coefficients[0].Term, r.Coefficients[0].HR)
		case nil:
			fmt.Printf("%s (%s): %s\n", name, a.Kind, a.Error)
		}
	}
	// Output:
	// crude: 14 events, HR exposure=A 1.284
	// incidence (rates): no entry has follow-up
}
