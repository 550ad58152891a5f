package etl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// An import whose every row is refused publishes nothing — no data
// version, no leaves — says so, and keeps its refused rows in the
// quarantine; a small import attaches only the leaves it fills (issue 14,
// point 3: 8 empty leaves were attached per refused import).
func TestLoadEveryRowRefusedPublishesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	first, err := etl.Load(ctx, pool, write(t, "person.csv", persons, "product.csv", products), opts())
	require.NoError(t, err)
	leafCount := func() int64 {
		return count(t, pool, `SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^(pharmacy|sdo|sdo_diagnosis|sdo_procedure)_p[0-9]+_v[0-9]+$'`)
	}

	bad := "person_id;dispensing_date;aic;packs\n99;2022-01-01;012345678;1\n1;2022-01-01;999999999;1\n1;2022-01-01;012345678;0\n"
	res, err := etl.Load(ctx, pool, write(t, "pharmacy.csv", bad), opts())
	require.ErrorIs(t, err, etl.ErrNothingToPublish)
	require.Contains(t, err.Error(), "3 rows read, 3 refused")
	require.Equal(t, etl.StateFailed, res.State)
	require.Zero(t, res.DataVersion)
	require.Equal(t, map[string]int64{etl.ReasonUnknownPerson: 1, etl.ReasonUnknownCode: 1, etl.ReasonNotPositive: 1}, res.RejectedBy)
	require.Equal(t, etl.FileFailed, res.Files[0].State)
	require.EqualValues(t, first.DataVersion, count(t, pool, "SELECT max(version) FROM etl_data_version"))
	require.Zero(t, leafCount(), "no leaf attached or left behind")
	require.Len(t, quarantine(t, pool, res.ImportID), 3, "the reasons are kept")
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM etl_import WHERE id = $1 AND state = 'failed' AND rows_rejected = 3 AND error LIKE 'every row was refused%'", res.ImportID))

	// One good row fills one partition of pharmacy: one leaf, not one per
	// partition.
	res, err = etl.Load(ctx, pool, write(t, "pharmacy.csv", bad+"1;2022-01-02;012345678;1\n"), opts())
	require.NoError(t, err)
	require.Equal(t, etl.StatePublished, res.State)
	require.EqualValues(t, 1, res.RowsPublished)
	require.EqualValues(t, 1, leafCount())
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM pharmacy"))
}

// Rows of a flow without a natural key that repeat an earlier row of the
// import exactly are published, and counted per file in the result and in
// the diagnostics (issue 14, point 7: a double send went unseen).
func TestLoadCountsExactDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	const row = "1;2022-03-01;012345678;1;GP1\n"
	a := "person_id;dispensing_date;aic;packs;prescriber_id\n" + row + row + "1;2022-03-01;012345678;1;GP2\n" + row + "2;2022-03-01;012345678;1;GP1\n"
	b := "person_id;dispensing_date;aic;packs;prescriber_id\n2;2022-03-01;012345678;1;GP1\n3;2022-03-01;012345678;1;GP1\n"
	res, err := etl.Load(ctx, pool, write(t, "person.csv", persons, "product.csv", products, "pharmacy_a.csv", a, "pharmacy_b.csv", b), opts())
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"pharmacy": 3}, res.DuplicateRows)
	require.EqualValues(t, 2, res.Files[2].DuplicateRows)
	require.EqualValues(t, 1, res.Files[3].DuplicateRows)
	require.EqualValues(t, 7, count(t, pool, "SELECT count(*) FROM pharmacy"), "duplicates are published")
	var warned int
	for _, w := range res.Warnings {
		if strings.Contains(w, "repeat an earlier row of this import exactly") {
			warned++
		}
	}
	require.Equal(t, 2, warned, res.Warnings)

	// One file alone: counted without telling files apart.
	c := "person_id;dispensing_date;aic;packs;prescriber_id\n" + row + row + "4;2022-03-01;012345678;1;GP1\n4;2022-03-01;012345678;1;GP1\n"
	res, err = etl.Load(ctx, pool, write(t, "pharmacy_c.csv", c), opts())
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"pharmacy": 2}, res.DuplicateRows)
	require.EqualValues(t, 2, res.Files[0].DuplicateRows)

	rep, err := etl.Diagnose(ctx, pool, 0)
	require.NoError(t, err)
	for _, f := range rep.Flows {
		if f.Flow == "pharmacy" {
			require.EqualValues(t, 5, f.DuplicateRows)
		}
	}
}
