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
		for k := r.IntN(6); k > 0; k-- {
			atc := []string{"C09AA05", "C09CA01", "C09DA01"}[r.IntN(3)]
			d := day(0, 3200)
			disp = append(disp, fmt.Sprintf("(%d, '%s', '1', '%s', 1, 1)", id, d, atc))
			if r.IntN(8) == 0 {
				disp = append(disp, fmt.Sprintf("(%d, '%s', '2', 'C09AA01', 1, 1)", id, d))
			}
		}
		for k := r.IntN(3); k > 0; k-- {
			d := day(0, 3200)
			sdo = append(sdo, fmt.Sprintf("(%d, 'h%d', '%s', '%s', 1)", id, k, d, d))
			dx = append(dx, fmt.Sprintf("(%d, 'h%d', %d, '4101', '%s', 1)", id, k, r.IntN(2), d))
		}
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO person (person_id, sex, birth_date, death_date, data_version) VALUES " + strings.Join(persons, ", ") + ";\n")
	sb.WriteString("INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version) VALUES " + strings.Join(spells, ", ") + ";\n")
	sb.WriteString("INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES " + strings.Join(disp, ", ") + ";\n")
	if len(sdo) > 0 {
		sb.WriteString("INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES " + strings.Join(sdo, ", ") + ";\n")
		sb.WriteString("INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES " + strings.Join(dx, ", ") + ";\n")
	}
	return sb.String()
}

// TestPartitionedEqualsOne: on random histories, the plan over two
// partitions gives the same final tables as the plan over one.
func TestPartitionedEqualsOne(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/comparator/protocol.json")
	require.NoError(t, err)
	pool := history(t, randomHistory(1, 150))
	queries := map[string]string{
		"index":     `SELECT person_id, entry_no, index_date, index_end, index_group, two_groups FROM {index} ORDER BY 1, 2`,
		"criteria":  `SELECT * FROM {criteria} ORDER BY 1, 2`,
		"cohort":    `SELECT * FROM {cohort} ORDER BY 1, 2`,
		"followup":  `SELECT * FROM {followup} ORDER BY 1, 2`,
		"outcome":   `SELECT * FROM {outcome_ami} ORDER BY 1, 2`,
		"dataset":   `SELECT * FROM {dataset} ORDER BY 1, 2`,
		"attrition": `SELECT line, label, sum(persons)::bigint, sum(entries)::bigint FROM {attrition} GROUP BY 1, 2 ORDER BY 1`,
	}
	execPlan(t, pool, string(raw), "prop_2", 2)
	execPlan(t, pool, string(raw), "prop_1", 1)
	for name, q := range queries {
		two := queryPlan(t, pool, "prop_2", 2, q)
		one := queryPlan(t, pool, "prop_1", 1, q)
		require.Equal(t, one, two, name)
		require.NotEmpty(t, two, "%s: the random history must give rows, or the property is empty", name)
		t.Logf("%s: %d rows", name, len(two))
	}
}
