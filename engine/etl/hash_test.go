package etl

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestHashPartitionMatchesPostgres inserts ids into the hash-partitioned
// person table and compares the partition PostgreSQL chose (its tableoid)
// with hashPartition's, for several partition counts.
func TestHashPartitionMatchesPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ids := []int64{0, 1, -1, 2, 42, math.MaxInt64, math.MinInt64, math.MaxInt32, math.MinInt32, 1 << 32, -(1 << 32), 1<<32 + 1}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		ids = append(ids, rng.Int64N(5_000_000))
		ids = append(ids, int64(rng.Uint64()))
	}
	for _, n := range []int{1, 3, 8, 16} {
		pool := pgtest.Pool(t)
		_, err := schema.EnsurePartitions(ctx, pool, n)
		require.NoError(t, err)
		rows := make([][]any, len(ids))
		for i, id := range ids {
			rows[i] = []any{id, "F", "2000-01-01", int64(1)}
		}
		_, err = pool.CopyFrom(ctx, pgx.Identifier{"person"}, []string{"person_id", "sex", "birth_date", "data_version"}, pgx.CopyFromRows(dedupe(rows)))
		require.NoError(t, err)
		got, err := pool.Query(ctx, "SELECT person_id, tableoid::regclass::text FROM person")
		require.NoError(t, err)
		seen := 0
		for got.Next() {
			var id int64
			var table string
			require.NoError(t, got.Scan(&id, &table))
			require.Equal(t, schema.PartitionName("person", hashPartition(id, n)), table, "id %d, %d partitions", id, n)
			seen++
		}
		require.NoError(t, got.Err())
		require.Greater(t, seen, 6000)
	}
}

func dedupe(rows [][]any) [][]any {
	seen := map[int64]bool{}
	var out [][]any
	for _, r := range rows {
		if id := r[0].(int64); !seen[id] {
			seen[id] = true
			out = append(out, r)
		}
	}
	return out
}
