package report_test

import (
	"os"

	"github.com/beaver-analytics/beaver/report"
	"github.com/beaver-analytics/beaver/report/results"
)

// Text writes the summary `beaver study results` prints.
func ExampleText() {
	doc, err := results.Decode([]byte(`{"protocol_hash": "h", "data_version": 1, "data_end": "2019-12-31",
		"software_version": "beaver v1", "min_count": 5,
		"attrition": [{"line": 0, "label": "index entries", "persons": 120, "entries": 130}],
		"analyses": {"incidence": {"kind": "rates", "outcome": "ami", "by": "exposure", "result": {
			"per": 1000, "conf_level": 0.95, "time_unit": "person-years", "reference": "B", "standardized": false,
			"groups": [
				{"group": "A", "events": 9, "persontime": 310.5, "crude": 28.99, "crude_lower": 13.25, "crude_upper": 55.02,
				 "rate_ratio": 1.61, "rr_lower": 0.62, "rr_upper": 4.2},
				{"group": "B", "events": null, "suppressed": true, "persontime": 222.1, "crude": 18.01, "crude_lower": 4.9, "crude_upper": 46.1,
				 "rate_ratio": null, "rr_lower": null, "rr_upper": null}]}}},
		"warnings": ["phases.index: exposure groups without a new-user washout compare prevalent users"]}`))
	if err != nil {
		panic(err)
	}
	if err := report.Text(os.Stdout, doc); err != nil {
		panic(err)
	}
	// Output:
	// protocol h, data version 1 (data end 2019-12-31), beaver v1
	// attrition:
	//   index entries                                         120 persons      130 entries
	// incidence (rates): per 1000 person-years
	//   A                       9 events      310.5 person-years, crude 28.99 (13.25 to 55.02), rate ratio 1.61 (0.62 to 4.2)
	//   B                      <5 events      222.1 person-years, crude 18.01 (4.9 to 46.1), reference
	// warning: phases.index: exposure groups without a new-user washout compare prevalent users
}
