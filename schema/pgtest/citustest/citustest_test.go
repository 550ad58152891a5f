package citustest_test

import (
	"context"
	"testing"

	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgtest/citustest"
)

func TestMain(m *testing.M) { citustest.Main(m) }

// TestInitCitus checks the layout InitCitus leaves: every flow distributed
// on person_id in one co-location group with the asked shard count, the
// dictionaries as reference tables, the event flows list-partitioned by
// data version with their DEFAULT leaf and nothing hash-partitioned left,
// the keys and indexes kept, and River's tables local.
func TestInitCitus(t *testing.T) {
	ctx := context.Background()
	pool := citustest.Pool(t, citustest.Options{ShardCount: 6})
	type table struct {
		kind     string
		colocate int
		shards   int
	}
	got := map[string]table{}
	rows, err := pool.Query(ctx, `SELECT table_name::text, citus_table_type, colocation_id, shard_count FROM citus_tables`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var tb table
		if err := rows.Scan(&name, &tb.kind, &tb.colocate, &tb.shards); err != nil {
			t.Fatal(err)
		}
		got[name] = tb
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	group := got["person"].colocate
	for _, name := range schema.DistributedTables {
		tb, ok := got[name]
		if !ok || tb.kind != "distributed" || tb.colocate != group || tb.shards != 6 {
			t.Errorf("%s: %+v, want distributed, co-located with person (group %d), 6 shards", name, tb, group)
		}
	}
	for _, name := range schema.ReferenceTables {
		if got[name].kind != "reference" {
			t.Errorf("%s: %+v, want a reference table", name, got[name])
		}
	}
	if _, ok := got["river_job"]; ok {
		t.Errorf("river_job is a Citus table; River's tables stay local on the coordinator")
	}
	var hash int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_partitioned_table WHERE partstrat = 'h'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if hash != 0 {
		t.Errorf("%d hash-partitioned tables left", hash)
	}
	var strat, def string
	if err := pool.QueryRow(ctx, `SELECT p.partstrat::text, (SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'pharmacy'::regclass)::text FROM pg_partitioned_table p WHERE p.partrelid = 'pharmacy'::regclass`).Scan(&strat, &def); err != nil {
		t.Fatal(err)
	}
	if strat != "l" || def != schema.DefaultLeafName("pharmacy", 0) {
		t.Errorf("pharmacy: strategy %q, partition %q; want l and %s", strat, def, schema.DefaultLeafName("pharmacy", 0))
	}
	var pk, idx string
	if err := pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'pharmacy'::regclass AND contype = 'p'`).Scan(&pk); err != nil {
		t.Fatal(err)
	}
	if pk != "PRIMARY KEY (person_id, event_id, data_version)" {
		t.Errorf("pharmacy's key: %s", pk)
	}
	if err := pool.QueryRow(ctx, `SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'pharmacy'::regclass`).Scan(&idx); err != nil {
		t.Fatal(err)
	}
	if idx != "pharmacy_atc_idx,pharmacy_person_date_idx,pharmacy_pkey" {
		t.Errorf("pharmacy's indexes: %s", idx)
	}
	if n, err := schema.Partitions(ctx, pool); err != nil || n != 1 {
		t.Errorf("partitions = %d, %v; want 1", n, err)
	}
	if c, err := schema.Citus(ctx, pool); err != nil || !c {
		t.Errorf("Citus = %v, %v; want true", c, err)
	}
	// Idempotent, and the partition count is Citus's business.
	if err := schema.InitCitus(ctx, pool, schema.CitusOptions{}); err != nil {
		t.Errorf("second InitCitus: %v", err)
	}
	if _, err := schema.EnsurePartitions(ctx, pool, 8); err == nil {
		t.Errorf("EnsurePartitions(8) on Citus: no error")
	}
	if n, err := schema.EnsurePartitions(ctx, pool, 0); err != nil || n != 1 {
		t.Errorf("EnsurePartitions(0) on Citus = %d, %v; want 1", n, err)
	}
}
