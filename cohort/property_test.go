package cohort_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// randomHistory writes a seeded random history of n persons: enrolment
// spells with gaps, ACE inhibitor and ARB dispensings (sometimes on the same
// day), AMI admissions and deaths, dated 2011–2019.
func randomHistory(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(lo, hi int) string { return base.AddDate(0, 0, lo+r.IntN(hi-lo+1)).Format("2006-01-02") }
	var persons, spells, disp, sdo, dx []string
	for id := 1; id <= n; id++ {
		sex := "MF"[r.IntN(2)]
		death := "NULL"
		if r.IntN(5) == 0 {
			death = "'" + day(900, 3200) + "'"
		}
		persons = append(persons, fmt.Sprintf("(%d, '%c', '%s', %s, 1)", id, sex, day(-30000, -12000), death))
		end1 := 300 + r.IntN(1500)
		spells = append(spells, fmt.Sprintf("(%d, '2011-01-01', '%s', 'ASL0%d', 1)", id, day(end1, end1), 1+r.IntN(3)))
		if r.IntN(4) > 0 {
			start2 := end1 + 1 + r.IntN(20)
			spells = append(spells, fmt.Sprintf("(%d, '%s', NULL, 'ASL01', 1)", id, day(start2, start2)))
		}
		atcs := []string{"C09AA05", "C09CA01", "C09DA01"}
		for k := r.IntN(6); k > 0; k-- {
			atc := atcs[r.IntN(3)]
			d := day(0, 3200)
			disp = append(disp, fmt.Sprintf("(%d, '%s', '1', '%s', 1, %d, 1)", id, d, atc, r.IntN(50)))
			if r.IntN(8) == 0 {
				disp = append(disp, fmt.Sprintf("(%d, '%s', '2', 'C09AA01', 1, NULL, 1)", id, d))
			}
		}
		// Half of the persons have a treatment: refills every 20–45
		// days (gaps and overlaps), so that episodes, adherence,
		// discontinuation and switches are not trivial.
		if r.IntN(2) == 0 {
			atc, d := atcs[r.IntN(3)], r.IntN(3000)
			for k := 2 + r.IntN(15); k > 0; k-- {
				disp = append(disp, fmt.Sprintf("(%d, '%s', '1', '%s', %d, %d, 1)", id, day(d, d), atc, 1+r.IntN(2), r.IntN(50)))
				d += 20 + r.IntN(26)
				if r.IntN(6) == 0 {
					atc = atcs[r.IntN(3)]
				}
			}
		}
		// Diagnoses: AMI mostly, else conditions of the Charlson index and
		// the MCS (heart failure, diabetes, colon cancer, cirrhosis, COPD).
		for k := r.IntN(4); k > 0; k-- {
			d := day(0, 3200)
			code := "4101"
			if r.IntN(2) == 0 {
				code = []string{"4280", "25000", "1530", "5715", "49120"}[r.IntN(5)]
			}
			sdo = append(sdo, fmt.Sprintf("(%d, 'h%d', '%s', '%s', %d, 1)", id, k, d, d, 1000+r.IntN(5000)))
			dx = append(dx, fmt.Sprintf("(%d, 'h%d', %d, '%s', '%s', 1)", id, k, r.IntN(2), code, d))
		}
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO person (person_id, sex, birth_date, death_date, data_version) VALUES " + strings.Join(persons, ", ") + ";\n")
	sb.WriteString("INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version) VALUES " + strings.Join(spells, ", ") + ";\n")
	// Product 1 is 30 DDD a pack, product 2 is 28.
	sb.WriteString("INSERT INTO dict_product (aic, atc, ddd_per_pack, valid_from, valid_to, data_version) VALUES ('1', 'C09AA05', 30, '2000-01-01', NULL, 1), ('2', 'C09AA01', 28, '2000-01-01', NULL, 1);\n")
	sb.WriteString("INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, cost, data_version) VALUES " + strings.Join(disp, ", ") + ";\n")
	if len(sdo) > 0 {
		sb.WriteString("INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, tariff, data_version) VALUES " + strings.Join(sdo, ", ") + ";\n")
		sb.WriteString("INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES " + strings.Join(dx, ", ") + ";\n")
	}
	return sb.String()
}

// propertyCovariates are added to the comparator protocol for
// TestPartitionedEqualsOne: comorbidity scores, drug and cost covariates
// (windows after day 0 too, cut at the end of observation), the baseline
// current use with grace, time-dependent covariates and transformations of
// them (one mixing a baseline input), and a cox analysis reading them.
const propertyCovariates = `,
      {"name": "cci", "kind": "charlson", "window": {"start": -365, "end": -1}},
      {"name": "mcs", "kind": "mcs", "window": {"start": -730, "end": -1}},
      {"name": "mcs_class", "kind": "classify", "of": ["mcs"], "cuts": [1, 5, 10]},
      {"name": "pdc", "kind": "adherence", "method": "pdc", "drug": {"event": "ace_dispensing"}, "window": {"start": 0, "end": 364}},
      {"name": "mpr", "kind": "adherence", "method": "mpr", "drug": {"event": "ace_dispensing"}, "window": {"start": 0, "end": 364}},
      {"name": "dur", "kind": "therapy_duration", "drug": {"event": "ace_dispensing", "grace_days": 30}, "window": {"start": 0, "end": 364}},
      {"name": "disc", "kind": "discontinuation", "drug": {"event": "ace_dispensing", "grace_days": 30}, "window": {"start": 0, "end": 364}},
      {"name": "sw", "kind": "switch", "event": "arb_dispensing", "drug": {"event": "ace_dispensing", "grace_days": 30}, "window": {"start": 0, "end": 364}},
      {"name": "cu0", "kind": "current_use", "drug": {"event": "ace_dispensing", "grace_days": 15}},
      {"name": "cost_before", "kind": "cost", "flows": ["hospital", "pharmacy"], "window": {"start": -365, "end": -1}},
      {"name": "cost_after", "kind": "cost", "flows": ["hospital", "pharmacy"], "window": {"start": 0, "end": 364}},
      {"name": "cu", "kind": "current_use", "timing": "time_dependent", "drug": {"event": "ace_dispensing", "grace_days": 15}},
      {"name": "arb_recent", "kind": "presence", "timing": "time_dependent", "event": "arb_dispensing", "window": {"start": -90, "end": 0}},
      {"name": "ace_n", "kind": "count", "timing": "time_dependent", "event": "ace_dispensing", "window": {"start": -180, "end": -1}},
      {"name": "ace_n_class", "kind": "classify", "of": ["ace_n"], "cuts": [1, 3]},
      {"name": "cu_and_arb", "kind": "combine", "op": "and", "of": ["cu", "arb_recent"]},
      {"name": "load", "kind": "sum", "of": ["ace_n", "age"]}`

// TestPartitionedEqualsOne: on random histories, the plan over two
// partitions gives the same final tables as the plan over one, for every
// stage and covariate kind; each compared table has rows, and each
// covariate takes a value other than 0/false somewhere, or the property
// says nothing.
func TestPartitionedEqualsOne(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/comparator/protocol.json")
	require.NoError(t, err)
	doc := string(raw)
	last := `"of": ["antidiabetic_use", "diabetes_admission", "diabetes_exemption"]}`
	require.Contains(t, doc, last)
	doc = strings.Replace(doc, last, last+propertyCovariates, 1)
	lastA := `"covariates": ["exposure", "age", "sex", "diabetes"], "ties": "efron"}`
	require.Contains(t, doc, lastA)
	doc = strings.Replace(doc, lastA, lastA+`,
      {"name": "td", "kind": "cox", "outcome": "ami", "covariates": ["exposure", "cu", "ace_n_class", "cu_and_arb", "load"]}`, 1)
	pool := history(t, randomHistory(1, 150))
	queries := map[string]string{
		"index":      `SELECT person_id, entry_no, index_date, index_end, index_group, two_groups FROM {index} ORDER BY 1, 2`,
		"criteria":   `SELECT * FROM {criteria} ORDER BY 1, 2`,
		"cohort":     `SELECT * FROM {cohort} ORDER BY 1, 2`,
		"followup":   `SELECT * FROM {followup} ORDER BY 1, 2`,
		"outcome":    `SELECT * FROM {outcome_ami} ORDER BY 1, 2`,
		"dataset":    `SELECT * FROM {dataset} ORDER BY 1, 2`,
		"attrition":  `SELECT line, label, sum(persons)::bigint, sum(entries)::bigint FROM {attrition} GROUP BY 1, 2 ORDER BY 1`,
		"tdcov_cu":   `SELECT * FROM {tdcov_cu} ORDER BY 1, 2, 3`,
		"tdcov_and":  `SELECT * FROM {tdcov_cu_and_arb} ORDER BY 1, 2, 3`,
		"tdcov_load": `SELECT * FROM {tdcov_load} ORDER BY 1, 2, 3`,
		"episodes":   `SELECT * FROM {episodes} ORDER BY 1, 2, 3`,
		"dataset_cp": `SELECT * FROM {dataset_cp_td} ORDER BY 1, 2, 3`,
	}
	execPlan(t, pool, doc, "prop_2", 2)
	execPlan(t, pool, doc, "prop_1", 1)
	for name, q := range queries {
		two := queryPlan(t, pool, "prop_2", 2, q)
		one := queryPlan(t, pool, "prop_1", 1, q)
		require.Equal(t, one, two, name)
		require.NotEmpty(t, two, "%s: the random history must give rows, or the property is empty", name)
		t.Logf("%s: %d rows", name, len(two))
	}
	// Every added covariate is informative somewhere.
	nonTrivial := `SELECT count(*) FILTER (WHERE cov_cci > 0), count(*) FILTER (WHERE cov_mcs > 0),
       count(DISTINCT cov_mcs_class), count(*) FILTER (WHERE cov_pdc > 0 AND cov_pdc < 1),
       count(*) FILTER (WHERE cov_mpr > 0), count(*) FILTER (WHERE cov_dur > 30),
       count(*) FILTER (WHERE cov_disc), count(*) FILTER (WHERE NOT cov_disc), count(*) FILTER (WHERE cov_sw),
       count(*) FILTER (WHERE cov_cu0), count(*) FILTER (WHERE cov_cost_before > 0),
       count(*) FILTER (WHERE obs_cost_after < 365)
FROM {dataset}`
	counts := queryPlan(t, pool, "prop_2", 2, nonTrivial)
	require.Len(t, counts, 1)
	for i, n := range strings.Fields(counts[0]) {
		require.NotEqual(t, "0", n, "column %d of the non-trivial counts: %s", i+1, counts[0])
	}
	t.Logf("non-trivial counts: %s", counts[0])
	tdNonTrivial := `SELECT count(*) FILTER (WHERE cov_cu), count(*) FILTER (WHERE cov_cu_and_arb), count(DISTINCT cov_ace_n_class), count(*) FILTER (WHERE event)
FROM {dataset_cp_td}`
	counts = queryPlan(t, pool, "prop_2", 2, tdNonTrivial)
	for i, n := range strings.Fields(counts[0]) {
		require.NotEqual(t, "0", n, "column %d of the time-dependent counts: %s", i+1, counts[0])
	}
	t.Logf("time-dependent counts: %s", counts[0])
}
