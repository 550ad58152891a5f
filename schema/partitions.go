package schema

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultPartitions is the number of hash partitions by person of the flow
// tables when the database is initialised without choosing one.
const DefaultPartitions = 8

// MaxPartitions bounds the partition count (each partition is a table per
// flow; beyond a few hundred the planner's costs dominate).
const MaxPartitions = 256

const settingPartitions = "partitions"

const lockPartitions = int64(0x6265617665720010) // "beaver" + 0x10

// ErrPartitionsFixed is returned when the partition count would change on a
// database that already holds flow data.
var ErrPartitionsFixed = errors.New("the partition count cannot change once flow data exists")

// Querier is what a pool, a connection and a transaction offer for reading
// one row.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Partitions returns the partition count recorded in etl_setting, or 0
// when the flow tables have not been partitioned yet.
func Partitions(ctx context.Context, q Querier) (int, error) {
	var v string
	err := q.QueryRow(ctx, "SELECT value FROM etl_setting WHERE key = $1", settingPartitions).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read partition count: %w", err)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("partition count %q in etl_setting: %w", v, err)
	}
	return n, nil
}

// PartitionName is the name of partition i of table t ("pharmacy_p3").
func PartitionName(t string, i int) string { return fmt.Sprintf("%s_p%d", t, i) }

// VersionedTables are the flow tables whose hash partitions are themselves
// partitioned by LIST (data_version), one leaf per import (migration 006):
// an import loads its leaves unattached and publishes by attaching them.
// The registry (person, enrolment) and area_person keep one level.
var VersionedTables = []string{"sdo", "sdo_diagnosis", "sdo_procedure", "pharmacy", "direct_distribution",
	"exemption", "er", "er_diagnosis", "outpatient", "cedap"}

// IsVersioned reports whether table t is one of VersionedTables.
func IsVersioned(t string) bool {
	for _, v := range VersionedTables {
		if v == t {
			return true
		}
	}
	return false
}

// LeafName is the leaf of data version v under partition i of table t
// ("pharmacy_p3_v7").
func LeafName(t string, i int, v int64) string { return fmt.Sprintf("%s_p%d_v%d", t, i, v) }

// DefaultLeafName is the DEFAULT leaf under partition i of table t: it holds
// rows inserted outside the import path (hand-made histories in tests, rows
// from before migration 006), whatever their data version.
func DefaultLeafName(t string, i int) string { return fmt.Sprintf("%s_p%d_vdefault", t, i) }

// EnsurePartitions creates the hash partitions of every table the
// migrations declare PARTITION BY (the flows and the areas' members); those
// of VersionedTables are created PARTITION BY LIST (data_version) with their
// DEFAULT leaf. With
// n = 0 it keeps the recorded count, or uses DefaultPartitions on a
// database not yet partitioned. A different n is accepted only while no
// partitioned table holds a row (the partitions are then dropped and
// recreated); otherwise ErrPartitionsFixed. It is idempotent and safe to
// call concurrently, and returns the count in force.
func EnsurePartitions(ctx context.Context, pool *pgxpool.Pool, n int) (int, error) {
	if n < 0 || n > MaxPartitions {
		return 0, fmt.Errorf("partition count %d: use 1 to %d", n, MaxPartitions)
	}
	var result int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockPartitions); err != nil {
			return err
		}
		cur, err := Partitions(ctx, tx)
		if err != nil {
			return err
		}
		if citus, err := Citus(ctx, tx); err != nil {
			return err
		} else if citus {
			// Citus's shards take the place of the hash partitions.
			if n > 1 {
				return fmt.Errorf("%w: the flows are distributed by Citus, in shards (docs/scale-out.md); Beaver's own partitions stay at 1", ErrPartitionsFixed)
			}
			result = 1
			return nil
		}
		if n == 0 {
			n = cur
			if n == 0 {
				n = DefaultPartitions
			}
		}
		result = n
		if cur == n {
			return nil
		}
		tables, err := partitionedTables(ctx, tx)
		if err != nil {
			return err
		}
		if cur != 0 {
			for _, t := range tables {
				var any bool
				if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{t}.Sanitize()+")").Scan(&any); err != nil {
					return err
				}
				if any {
					return fmt.Errorf("%w: table %s has rows with %d partitions, %d asked", ErrPartitionsFixed, t, cur, n)
				}
			}
			for _, t := range tables {
				for i := 0; i < cur; i++ {
					if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{PartitionName(t, i)}.Sanitize()); err != nil {
						return err
					}
				}
			}
		}
		for _, t := range tables {
			for i := 0; i < n; i++ {
				part := pgx.Identifier{PartitionName(t, i)}.Sanitize()
				sql := fmt.Sprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES WITH (MODULUS %d, REMAINDER %d)",
					part, pgx.Identifier{t}.Sanitize(), n, i)
				if IsVersioned(t) {
					sql += " PARTITION BY LIST (data_version)"
				}
				if _, err := tx.Exec(ctx, sql); err != nil {
					return fmt.Errorf("create partition %d of %s: %w", i, t, err)
				}
				if IsVersioned(t) {
					sql := "CREATE TABLE " + pgx.Identifier{DefaultLeafName(t, i)}.Sanitize() + " PARTITION OF " + part + " DEFAULT"
					if _, err := tx.Exec(ctx, sql); err != nil {
						return fmt.Errorf("create default leaf of partition %d of %s: %w", i, t, err)
					}
				}
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO etl_setting (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, settingPartitions, strconv.Itoa(n))
		return err
	})
	if err != nil {
		if errors.Is(err, ErrPartitionsFixed) {
			return 0, err
		}
		return 0, fmt.Errorf("ensure %d partitions: %w", n, err)
	}
	return result, nil
}

// partitionedTables lists the partitioned top-level tables of the current
// schema, from the catalog: whatever the migrations declared (not the
// list-partitioned hash partitions below VersionedTables).
func partitionedTables(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_partitioned_table p
		JOIN pg_class c ON c.oid = p.partrelid JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname = current_schema() AND NOT c.relispartition ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list partitioned tables: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
