package schema

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Citus: the flows distributed by person (docs/scale-out.md).
//
// On one PostgreSQL, a flow table is hash-partitioned by person_id into
// Beaver's own partitions, and the event flows' partitions are
// list-partitioned by data version into one leaf per import:
//
//	pharmacy → pharmacy_p3 → pharmacy_p3_v7
//
// Citus refuses multi-level partitioning and brings its own hash
// distribution, so on Citus the hash level goes: Beaver runs with one
// partition, every flow table is distributed on person_id in one
// co-location group (shards of the same persons on the same node), and the
// event flows keep the version level, one distributed leaf per import,
// attached at the publish exactly as on one server:
//
//	pharmacy (distributed, LIST (data_version)) → pharmacy_p0_v7 (distributed, co-located)
//
// A study then has one step per stage, each one distributed statement that
// Citus runs on every shard in parallel; the study's own tables are
// distributed in the same group (DistributeTable), so every join between
// them and the flows stays on the shard. The code dictionaries and the
// areas are reference tables (a copy on every node); River's tables and
// the app's bookkeeping stay plain tables on the coordinator.

const (
	settingLayout     = "layout"
	settingShardCount = "shard_count"
	layoutCitus       = "citus"
)

// DistributedTables are the tables distributed on person_id, co-located
// with ColocationTable: the registry, the flows and the areas' members.
var DistributedTables = append([]string{"person", "enrolment"}, append(VersionedTables, "area_person")...)

// ReferenceTables are the small tables joined by the flows' and studies'
// statements, copied to every node: the code dictionaries and the areas.
var ReferenceTables = []string{"dict_icd9cm", "dict_exemption", "dict_product", "dict_outpatient", "dict_atc", "area"}

// ColocationTable is the table every distributed table is co-located with.
const ColocationTable = "person"

// CitusOptions configure InitCitus.
type CitusOptions struct {
	// ShardCount is the number of shards of every distributed table;
	// 0 means Citus's citus.shard_count (32 by default).
	ShardCount int
}

// Citus reports whether the database's flows are distributed by
// InitCitus.
func Citus(ctx context.Context, q Querier) (bool, error) {
	var v string
	err := q.QueryRow(ctx, "SELECT value FROM etl_setting WHERE key = $1", settingLayout).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read table layout: %w", err)
	}
	return v == layoutCitus, nil
}

// CitusLayout returns the number of worker nodes that hold shards and the
// shard count of the distributed flows.
func CitusLayout(ctx context.Context, q Querier) (workers, shards int, err error) {
	err = q.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND isactive AND shouldhaveshards AND groupid <> 0),
		(SELECT shard_count FROM citus_tables WHERE table_name = $1::regclass)`, ColocationTable).Scan(&workers, &shards)
	if err != nil {
		return 0, 0, fmt.Errorf("read the Citus layout: %w", err)
	}
	return workers, shards, nil
}

// ErrNotCitus is returned by InitCitus on a server without the Citus
// extension or without worker nodes.
var ErrNotCitus = errors.New("not a Citus cluster")

// InitCitus distributes a migrated database's flows on the Citus cluster
// it runs on: the extension must be loaded (shared_preload_libraries) and
// at least one worker added with citus_add_node. It is refused once flow
// data exists (load into a new database instead), is idempotent, and
// either changes everything or nothing: the whole conversion is one
// distributed transaction.
func InitCitus(ctx context.Context, pool *pgxpool.Pool, opts CitusOptions) error {
	if opts.ShardCount < 0 || opts.ShardCount > 64000 {
		return fmt.Errorf("init citus: shard count %d: use 1 to 64000", opts.ShardCount)
	}
	var loaded bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&loaded); err != nil {
		return fmt.Errorf("init citus: %w", err)
	}
	if !loaded {
		if _, err := pool.Exec(ctx, "CREATE EXTENSION citus"); err != nil {
			return fmt.Errorf("init citus: %w: CREATE EXTENSION citus failed (%v); install Citus on every node, "+
				"set shared_preload_libraries = 'citus' and create the extension as a superuser (docs/scale-out.md)", ErrNotCitus, err)
		}
	}
	var workers int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_dist_node
		WHERE noderole = 'primary' AND isactive AND shouldhaveshards AND groupid <> 0`).Scan(&workers); err != nil {
		return fmt.Errorf("init citus: list nodes: %w", err)
	}
	if workers == 0 {
		return fmt.Errorf("init citus: %w: the coordinator has no worker nodes; add them with SELECT citus_add_node('host', 5432)", ErrNotCitus)
	}
	done, err := Citus(ctx, pool)
	if err != nil || done {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockPartitions); err != nil {
			return err
		}
		// Every DDL of the conversion on one connection per node: Citus
		// refuses to mix parallel shard creation with later DDL on the
		// same tables in one transaction otherwise.
		if _, err := tx.Exec(ctx, "SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"); err != nil {
			return err
		}
		for _, t := range DistributedTables {
			var rows bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{t}.Sanitize()+")").Scan(&rows); err != nil {
				return fmt.Errorf("init citus: %s: %w", t, err)
			}
			if rows {
				return fmt.Errorf("init citus: table %s already has rows: distribute a new database and import the flows into it", t)
			}
			if err := flatten(ctx, tx, t); err != nil {
				return fmt.Errorf("init citus: %s: %w", t, err)
			}
		}
		for _, t := range DistributedTables {
			var err error
			if t == ColocationTable {
				if opts.ShardCount > 0 {
					_, err = tx.Exec(ctx, "SELECT create_distributed_table($1, 'person_id', shard_count => $2, colocate_with => 'none')", t, opts.ShardCount)
				} else {
					_, err = tx.Exec(ctx, "SELECT create_distributed_table($1, 'person_id', colocate_with => 'none')", t)
				}
			} else {
				_, err = tx.Exec(ctx, "SELECT create_distributed_table($1, 'person_id', colocate_with => $2)", t, ColocationTable)
			}
			if err != nil {
				return fmt.Errorf("init citus: distribute %s: %w", t, err)
			}
		}
		for _, t := range ReferenceTables {
			if _, err := tx.Exec(ctx, "SELECT create_reference_table($1)", t); err != nil {
				return fmt.Errorf("init citus: reference table %s: %w", t, err)
			}
		}
		var shards int
		if err := tx.QueryRow(ctx, "SELECT shard_count FROM citus_tables WHERE table_name = $1::regclass", ColocationTable).Scan(&shards); err != nil {
			return fmt.Errorf("init citus: read shard count: %w", err)
		}
		for k, v := range map[string]string{settingPartitions: "1", settingLayout: layoutCitus, settingShardCount: strconv.Itoa(shards)} {
			if _, err := tx.Exec(ctx, `INSERT INTO etl_setting (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// flatten replaces the hash-partitioned table t (and any partitions
// EnsurePartitions made) by an equal table without the hash level: a plain
// table, or for the event flows a table list-partitioned by data version
// with its DEFAULT leaf. Columns, defaults, checks, keys and indexes keep
// their definitions and names.
func flatten(ctx context.Context, tx pgx.Tx, t string) error {
	id := pgx.Identifier{t}.Sanitize()
	rows, err := tx.Query(ctx, `SELECT pg_get_indexdef(i.indexrelid), coalesce(c.conname, ''), coalesce(pg_get_constraintdef(c.oid), '')
		FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
		WHERE i.indrelid = $1::regclass ORDER BY i.indisprimary DESC, i.indexrelid`, t)
	if err != nil {
		return err
	}
	var stmts []string
	for rows.Next() {
		var index, con, def string
		if err := rows.Scan(&index, &con, &def); err != nil {
			rows.Close()
			return err
		}
		if con != "" {
			stmts = append(stmts, "ALTER TABLE "+id+" ADD CONSTRAINT "+pgx.Identifier{con}.Sanitize()+" "+def)
		} else {
			stmts = append(stmts, strings.Replace(index, " ON ONLY ", " ON ", 1))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	tmp := pgx.Identifier{t + "__flat"}.Sanitize()
	sql := "CREATE TABLE " + tmp + " (LIKE " + id + " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS)"
	if IsVersioned(t) {
		sql += " PARTITION BY LIST (data_version)"
	}
	for _, s := range []string{sql, "DROP TABLE " + id, "ALTER TABLE " + tmp + " RENAME TO " + id} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	if IsVersioned(t) {
		if _, err := tx.Exec(ctx, "CREATE TABLE "+pgx.Identifier{DefaultLeafName(t, 0)}.Sanitize()+" PARTITION OF "+id+" DEFAULT"); err != nil {
			return err
		}
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// DistributeTable distributes a new, empty study table on person_id in
// the flows' co-location group, so that the statements joining it with
// the flows and the other study tables run on each shard.
func DistributeTable(ctx context.Context, tx pgx.Tx, table string) error {
	if _, err := tx.Exec(ctx, "SELECT create_distributed_table($1, 'person_id', colocate_with => $2)", table, ColocationTable); err != nil {
		return fmt.Errorf("distribute %s: %w", table, err)
	}
	return nil
}

// LeafParent is the table a leaf of partition i of the event flow t is
// attached to: the hash partition on one server, the flow itself on Citus.
func LeafParent(citus bool, t string, i int) string {
	if citus {
		return t
	}
	return PartitionName(t, i)
}

// citusNodeFailures are the words of Citus's errors for a worker node it
// cannot reach or lost mid-statement; their SQLSTATE is often XX000, so
// they are known by their message.
var citusNodeFailures = []string{
	"connection to the remote node",
	"failure on connection marked as essential",
	"could not establish any connections to the node",
	"connection not open",
	"remote transaction failed",
	// libpq's words, relayed by the coordinator for a worker's connection
	"server closed the connection unexpectedly",
	"the database system is shutting down",
	"the database system is starting up",
	"the database system is in recovery mode",
	"terminating connection due to administrator command",
}

// NodeUnreachable reports whether err is Citus's failure to reach a worker
// node (a node down or restarting): a statement that fails so may succeed
// once the node is back. After a worker restarts, each coordinator session
// fails once on its cached connection to it, and then reconnects.
func NodeUnreachable(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, m := range citusNodeFailures {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
