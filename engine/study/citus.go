package study

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/beaver-analytics/beaver/schema"
)

// distribute makes a step's new, empty table a distributed table in the
// flows' co-location group when the database runs on Citus
// (schema.InitCitus), so that the step's statement, and every later one
// that joins the table, runs on each shard where the persons' rows are. A
// table without person_id (the attrition's counts) stays on the
// coordinator: it receives aggregates only.
func distribute(ctx context.Context, tx pgx.Tx, table string) error {
	citus, err := schema.Citus(ctx, tx)
	if err != nil || !citus {
		return err
	}
	var byPerson bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute
		WHERE attrelid = $1::regclass AND attname = 'person_id' AND NOT attisdropped)`, table).Scan(&byPerson); err != nil {
		return err
	}
	if !byPerson {
		return nil
	}
	return schema.DistributeTable(ctx, tx, table)
}
