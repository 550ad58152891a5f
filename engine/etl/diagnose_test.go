package etl_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestDiagnoseFindings builds a pharmacy history with one busy person in
// 2021, a month with no data (2019-03) and a refused code, and checks that
// the diagnostics name each of them.
func TestDiagnoseFindings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	var reg, ph strings.Builder
	reg.WriteString("person_id;sex;birth_date\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&reg, "%d;F;1950-01-01\n", i)
	}
	ph.WriteString("person_id;dispensing_date;aic;atc;packs\n")
	for y := 2017; y <= 2022; y++ {
		for i := 1; i <= 20; i++ {
			m := (i-1)%12 + 1
			if y == 2019 && m == 3 {
				continue
			}
			fmt.Fprintf(&ph, "%d;%d-%02d-10;012345678;A10BA02;1\n", i, y, m)
		}
	}
	for k := 0; k < 60; k++ {
		fmt.Fprintf(&ph, "30;2021-%02d-%02d;012345678;A10BA02;1\n", k%12+1, k%28+1)
	}
	ph.WriteString("1;2020-05-05;999;A10BA02;1\n")
	res, err := etl.Load(ctx, pool, write(t, "person.csv", reg.String(), "product.csv", products, "pharmacy.csv", ph.String()), opts())
	require.NoError(t, err)
	require.EqualValues(t, 1, res.RejectedBy["unknown_code"])

	rep, err := etl.Diagnose(ctx, pool, 0)
	require.NoError(t, err)
	require.EqualValues(t, 1, rep.DataVersion)
	var fr *etl.FlowReport
	for i := range rep.Flows {
		if rep.Flows[i].Flow == "pharmacy" {
			fr = &rep.Flows[i]
		}
	}
	require.NotNil(t, fr)
	require.EqualValues(t, 20*6-2+60, fr.Rows)
	require.Len(t, fr.Years, 6)
	y2021 := fr.Years[4]
	require.Equal(t, 2021, y2021.Year)
	require.EqualValues(t, 80, y2021.Rows)
	require.EqualValues(t, 21, y2021.Persons)
	// Median 1 event per person, MAD 0: threshold 1 + 5*1 = 6.
	require.InDelta(t, 6, y2021.Threshold, 1e-9)
	require.EqualValues(t, 1, y2021.Outliers)
	require.Equal(t, [][2]int64{{30, 60}}, y2021.Top)
	// Yearly rows 20,20,18,20,80,20: median 20, MAD 0, mean absolute
	// deviation 62/6, so z(2021) = 60 / (1.2533 * 62/6) = 4.63.
	require.InDelta(t, 60/(1.2533*62.0/6), y2021.Z, 1e-9)
	require.Equal(t, []int{2021}, fr.SuspiciousYears)
	require.InDelta(t, 3.0, *y2021.YoY, 1e-9)
	require.Equal(t, []string{"2019-03"}, fr.EmptyMonths)
	require.Equal(t, map[string]int{"future": 0, "before_1900": 0, "before_birth": 0, "after_death": 0}, fr.DatesOutOfRange)
	require.Equal(t, 1, fr.Quarantined["unknown_code"])
	require.Len(t, fr.Codes, 1)
	require.Equal(t, []etl.CodeCount{{Code: "999", Count: 1}}, fr.Codes[0].TopOffenders)

	// A product withdrawn from the dictionary after the import shows up as
	// unknown in the published rows.
	_, err = pool.Exec(ctx, "DELETE FROM dict_product WHERE aic = '012345678'")
	require.NoError(t, err)
	rep, err = etl.Diagnose(ctx, pool, 1)
	require.NoError(t, err)
	stored, err := etl.StoredDiagnostics(ctx, pool, 0)
	require.NoError(t, err)
	require.Equal(t, rep.Flows[2].Flow, stored.Flows[2].Flow)
	for _, f := range stored.Flows {
		if f.Flow == "pharmacy" {
			require.EqualValues(t, 20*6-2+60, f.Codes[0].Unknown)
		}
	}
}

func TestMaterializeAreas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	paths := write(t, "person.csv", persons, "product.csv", products,
		"pharmacy.csv", "person_id;dispensing_date;aic;atc;packs\n2;2021-04-01;012345678;A10BA02;1\n2;2020-04-01;012345678;A10BA02;1\n",
		"sdo.csv", "person_id,discharge_id,admission_date,discharge_date,diag_princ,diag_sec_1\n"+
			"1,A,2022-05-02,2022-05-09,4280,25000\n3,B,2022-01-02,2022-01-03,4019,\n4,C,2022-01-02,2022-01-03,V270,\n",
		"exemption.csv", "person_id;code;start_date\n1;013.250;2015-01-01\n",
		"cedap.csv", "person_id;cedap_id;delivery_date;newborn_person_id;newborn_sex\n3;C1;2022-01-10;6;F\n")
	_, err := etl.Load(ctx, pool, paths, etl.Options{ImportDate: importDate, Logger: opts().Logger,
		AfterPublish: func(ctx context.Context, v int64) error { return etl.AfterPublish(ctx, pool, v) }})
	require.NoError(t, err)
	rows, err := pool.Query(ctx, "SELECT area, person_id, entry_date::text, entry_source FROM area_person ORDER BY area, person_id")
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var a, d, s string
		var p int64
		require.NoError(t, rows.Scan(&a, &p, &d, &s))
		got = append(got, fmt.Sprintf("%s %d %s %s", a, p, d, s))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{
		"cardiovascular 1 2022-05-02 sdo_diagnosis",
		"cardiovascular 3 2022-01-02 sdo_diagnosis",
		"diabetes 1 2015-01-01 exemption",
		"diabetes 2 2020-04-01 pharmacy",
		"maternal_child 3 2022-01-10 cedap",
		"maternal_child 4 2022-01-02 sdo_diagnosis",
		"maternal_child 6 2022-01-10 cedap_newborn",
	}, got)
	var n int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT persons FROM area WHERE name = 'diabetes' AND data_version = 1").Scan(&n))
	require.EqualValues(t, 2, n)
	// The diagnostics of the version were stored too.
	rep, err := etl.StoredDiagnostics(ctx, pool, 1)
	require.NoError(t, err)
	require.NotNil(t, rep)
}
