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

// A stray double quote costs its own line only: the line is quarantined
// with the quoting error, every following line is read, and quoted fields
// that hold the delimiter or a doubled quote still read as one field
// (issue 14, point 1: the rest of the file was read as one field).
func TestLoadStrayQuoteCostsOneLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	var b strings.Builder
	b.WriteString("person_id,dispensing_date,aic,atc,packs,prescriber_id,cost,copay\n")
	b.WriteString("1,2022-03-01,012345678,A10BA02,1,GP1,4.50,2.00\n")
	b.WriteString("1,2022-03-02,012345678,A10BA02,1,\"GP1,4.50,2.00\n") // line 3: stray quote
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "%d,2022-04-%02d,012345678,A10BA02,1,GP%d,4.50,2.00\n", 1+i%4, 1+i%28, i)
	}
	b.WriteString("2,2022-05-01,012345678,A10BA02,1,\"GP,7\",\"4.50\",2.00\n")     // line 204: quoted, with the delimiter
	b.WriteString("2,2022-05-02,012345678,A10BA02,1,\"GP \"\"8\"\"\",4.50,2.00\n") // line 205: doubled quotes
	b.WriteString("2,2022-05-03,012345678,A10BA02,1,\"GP9\"x,4.50,2.00\n")         // line 206: text after the closing quote
	b.WriteString("2,2022-05-04,012345678,A10BA02,1,5\" GP,4.50,2.00\n")           // line 207: a quote inside an unquoted field
	b.WriteString("\n")                                                            // line 208: blank, skipped
	b.WriteString("3,2022-05-05,012345678,A10BA02,1,GPlast,4.50,2.00\n")           // line 209
	paths := write(t, "person.csv", persons, "product.csv", products, "pharmacy.csv", b.String())
	res, err := etl.Load(ctx, pool, paths, opts())
	require.NoError(t, err)
	ph := res.Files[2]
	require.Equal(t, "pharmacy", ph.Flow)
	require.EqualValues(t, 207, ph.RowsRead, "every non-blank data line is a row")
	require.EqualValues(t, 2, ph.RowsRejected)
	require.EqualValues(t, 205, ph.RowsPublished)
	require.EqualValues(t, 205, count(t, pool, "SELECT count(*) FROM pharmacy"))
	require.Equal(t, []quarantined{
		{"pharmacy.csv", 3, "prescriber_id", etl.ReasonBadQuote},
		{"pharmacy.csv", 206, "prescriber_id", etl.ReasonBadQuote},
	}, quarantine(t, pool, res.ImportID))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM etl_quarantine WHERE import_id = $1 AND line = 3 AND detail LIKE '%not closed on this line%'", res.ImportID))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM pharmacy WHERE prescriber_id = 'GP,7' AND cost = 4.5"))
	require.EqualValues(t, 1, count(t, pool, `SELECT count(*) FROM pharmacy WHERE prescriber_id = 'GP "8"'`))
	require.EqualValues(t, 1, count(t, pool, `SELECT count(*) FROM pharmacy WHERE prescriber_id = '5" GP'`))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM pharmacy WHERE prescriber_id = 'GPlast'"))
	for _, f := range res.Files {
		require.Equal(t, f.RowsRead, f.RowsPublished+f.RowsRejected, f.Path)
	}
}

// A last line without a final newline is checked as every line is, and a
// warning names it: a file cut inside its last field may still give a
// valid row (…;117.20;1 for …;117.20;1.00), which no check can see
// (issue 14, point 6: it published silently, and a refused last line
// failed the whole file).
func TestLoadLastLineWithoutNewline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	const head = "person_id;dispensing_date;aic;packs;cost;copay\n1;2022-01-01;012345678;1;117.20;1.00\n"
	cases := []struct {
		name, last          string
		published, rejected int64
	}{
		{"cut to a valid row", "2;2022-01-02;012345678;1;117.20;1", 2, 0},
		{"cut to a short row", "2;2022-01", 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			paths := write(t, "person.csv", persons, "product.csv", products, "pharmacy.csv", head+tc.last)
			res, err := etl.Load(ctx, pool, paths, opts())
			require.NoError(t, err)
			ph := res.Files[2]
			require.Equal(t, []int64{2, tc.published, tc.rejected}, []int64{ph.RowsRead, ph.RowsPublished, ph.RowsRejected})
			var cut []string
			for _, w := range res.Warnings {
				if strings.Contains(w, "final newline") {
					cut = append(cut, w)
				}
			}
			require.Len(t, cut, 1, res.Warnings)
			require.Contains(t, cut[0], "pharmacy.csv: line 3, the last, has no final newline")
			require.Contains(t, cut[0], "(copay)")
		})
	}
}

// Fields longer than their column type allows are quarantined, and so is a
// line longer than 1 MiB, without reading it whole (issue 14, point 5: a
// 20 MB field was published as is).
func TestLoadCapsFieldLength(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	var b strings.Builder
	b.WriteString("person_id;dispensing_date;aic;packs;prescriber_id\n")
	b.WriteString("1;2022-01-01;012345678;1;GP1\n")
	b.WriteString("1;2022-01-02;012345678;1;" + strings.Repeat("x", 1000) + "\n")  // line 3: text at its cap
	b.WriteString("1;2022-01-03;012345678;1;" + strings.Repeat("x", 1001) + "\n")  // line 4: text over its cap
	b.WriteString("1;2022-01-04;0123456789012345678901234567890123;1;GP1\n")       // line 5: a 34-byte code
	b.WriteString("1;2022-01-05;012345678;1;" + strings.Repeat("y", 3<<20) + "\n") // line 6: a 3 MiB line
	b.WriteString("2;2022-01-06;012345678;1;GP2\n")
	b.WriteString("2;2022-01-07;012345678;1;x" + strings.Repeat("é", 600) + "\n") // line 8: cut at 200 bytes inside a character
	paths := write(t, "person.csv", persons, "product.csv", products, "pharmacy.csv", b.String())
	res, err := etl.Load(ctx, pool, paths, opts())
	require.NoError(t, err)
	require.Equal(t, []quarantined{
		{"pharmacy.csv", 4, "prescriber_id", etl.ReasonFieldTooLong},
		{"pharmacy.csv", 5, "aic", etl.ReasonFieldTooLong},
		{"pharmacy.csv", 6, "*", etl.ReasonFieldTooLong},
		{"pharmacy.csv", 8, "prescriber_id", etl.ReasonFieldTooLong},
	}, quarantine(t, pool, res.ImportID))
	ph := res.Files[2]
	require.Equal(t, []int64{7, 3, 4}, []int64{ph.RowsRead, ph.RowsPublished, ph.RowsRejected})
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM pharmacy WHERE length(prescriber_id) = 1000"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM pharmacy WHERE prescriber_id = 'GP2'"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM etl_quarantine WHERE import_id = $1 AND line = 4 AND detail = '1001 bytes, a text column holds at most 1000'", res.ImportID))
	require.EqualValues(t, 0, count(t, pool, "SELECT count(*) FROM etl_quarantine WHERE length(value) > 200"))
}
