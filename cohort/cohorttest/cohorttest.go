// Package cohorttest runs compiled plans directly on PostgreSQL, one step
// after another on one connection, for tests of the compiler's semantics
// (the engine runs the same steps as River jobs, in parallel).
package cohorttest

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/cohort"
)

// Run creates the plan's schema and executes its steps in order, each as
// DROP TABLE IF EXISTS, Create, SQL and ANALYZE in one transaction.
func Run(ctx context.Context, pool *pgxpool.Pool, plan *cohort.Plan) error {
	if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{plan.Schema}.Sanitize()); err != nil {
		return fmt.Errorf("cohorttest: create schema %s: %w", plan.Schema, err)
	}
	done := map[string]bool{}
	for _, s := range plan.Steps {
		for _, d := range s.DependsOn {
			if !done[d] {
				return fmt.Errorf("cohorttest: step %s runs before its input %s", s.Name, d)
			}
		}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+s.Table); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, s.Create); err != nil {
				return fmt.Errorf("create: %w", err)
			}
			if _, err := tx.Exec(ctx, s.SQL, s.Args...); err != nil {
				return fmt.Errorf("fill: %w", err)
			}
			// As the study engine does, so that later steps are planned
			// the same way here and there.
			if _, err := tx.Exec(ctx, "ANALYZE "+s.Table); err != nil {
				return fmt.Errorf("analyze: %w", err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("cohorttest: step %s: %w", s.Name, err)
		}
		done[s.Name] = true
	}
	return nil
}

// Lines runs a query and renders each row as its values joined by " ",
// NULL as "-", dates as YYYY-MM-DD, numerics as decimals: a form that expected rows written by
// hand can be compared with.
func Lines(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) ([]string, error) {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("cohorttest: query: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = render(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out, rows.Err()
}

// render formats one value for Lines.
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case interface{ Format(string) string }:
		return x.Format("2006-01-02")
	case driver.Valuer: // numeric: its decimal text
		if dv, err := x.Value(); err == nil {
			return fmt.Sprint(dv)
		}
		return fmt.Sprint(x)
	default:
		return fmt.Sprint(x)
	}
}
