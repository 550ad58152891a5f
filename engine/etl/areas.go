package etl

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed areas/areas.json
var areasJSON []byte

// Area is an area of interest: the persons meeting any of its criteria,
// from the earliest date one is met.
type Area struct {
	Name     string      `json:"name"`
	Title    string      `json:"title"`
	Criteria []Criterion `json:"criteria"`
	Sources  []string    `json:"sources"`
}

// Criterion is one way into an area.
type Criterion struct {
	// Source is the table searched: sdo_diagnosis, er_diagnosis,
	// exemption, pharmacy, direct_distribution (by ATC), cedap (the
	// mother) or cedap_newborn.
	Source string `json:"source"`
	// Positions is "principal" or "any" for diagnosis tables.
	Positions string `json:"positions,omitempty"`
	// Prefixes of the codes, as stored.
	Prefixes []string `json:"prefixes,omitempty"`
	Why      string   `json:"why"`
}

// criterionSQL is, per source, the person, the entry date, the coded
// column (empty: no code filter) and an extra condition.
var criterionSQL = map[string][4]string{
	"sdo_diagnosis":       {"person_id", "admission_date", "code", ""},
	"er_diagnosis":        {"person_id", "arrival_date", "code", ""},
	"exemption":           {"person_id", "start_date", "code", ""},
	"pharmacy":            {"person_id", "dispensing_date", "atc", ""},
	"direct_distribution": {"person_id", "dispensing_date", "atc", ""},
	"cedap":               {"person_id", "delivery_date", "", ""},
	"cedap_newborn":       {"newborn_person_id", "delivery_date", "", "newborn_person_id IS NOT NULL"},
}

// Validate checks an area's criteria against the sources Beaver knows.
func (a *Area) Validate() error {
	if a.Name == "" || len(a.Criteria) == 0 {
		return fmt.Errorf("area %q: a name and at least one criterion are required", a.Name)
	}
	for i, c := range a.Criteria {
		spec, ok := criterionSQL[c.Source]
		if !ok {
			return fmt.Errorf("area %s: criterion %d: unknown source %q", a.Name, i+1, c.Source)
		}
		if (spec[2] != "") != (len(c.Prefixes) > 0) {
			return fmt.Errorf("area %s: criterion %d: source %s takes %s", a.Name, i+1, c.Source,
				map[bool]string{true: "code prefixes", false: "no codes"}[spec[2] != ""])
		}
		if strings.HasSuffix(c.Source, "_diagnosis") && c.Positions != "any" && c.Positions != "principal" {
			return fmt.Errorf("area %s: criterion %d: positions must be any or principal", a.Name, i+1)
		}
	}
	return nil
}

// Areas returns the shipped area definitions (engine/etl/areas/areas.json).
func Areas() ([]Area, error) {
	var doc struct {
		Areas []Area `json:"areas"`
	}
	if err := json.Unmarshal(areasJSON, &doc); err != nil {
		return nil, fmt.Errorf("etl: areas.json: %w", err)
	}
	for i := range doc.Areas {
		if err := doc.Areas[i].Validate(); err != nil {
			return nil, fmt.Errorf("etl: areas.json: %w", err)
		}
	}
	return doc.Areas, nil
}

// areaSQL builds the query of an area's persons with their entry date and
// the source of the earliest entry, over data versions <= $1.
func areaSQL(a Area) (string, []any) {
	args := []any{nil} // $1: the data version, set by the caller
	var parts []string
	for _, c := range a.Criteria {
		spec := criterionSQL[c.Source]
		table := c.Source
		if c.Source == "cedap_newborn" {
			table = "cedap"
		}
		args = append(args, c.Source)
		sql := fmt.Sprintf("SELECT %s AS person_id, %s AS entry_date, $%d::text AS source FROM %s WHERE data_version <= $1",
			ident(spec[0]), ident(spec[1]), len(args), ident(table))
		if spec[2] != "" {
			pats := make([]string, len(c.Prefixes))
			for i, p := range c.Prefixes {
				pats[i] = p + "%"
			}
			args = append(args, pats)
			sql += fmt.Sprintf(" AND %s LIKE ANY ($%d::text[])", ident(spec[2]), len(args))
		}
		if spec[3] != "" {
			sql += " AND " + spec[3]
		}
		if c.Positions == "principal" {
			sql += " AND position = 0"
		}
		parts = append(parts, sql)
	}
	return "SELECT person_id, min(entry_date), (array_agg(source ORDER BY entry_date, source))[1] FROM (" +
		strings.Join(parts, " UNION ALL ") + ") c GROUP BY person_id", args
}

// MaterializeAreas recomputes every shipped area over the data of version
// (0: latest) in one transaction, so studies see all areas of one version.
func MaterializeAreas(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	areas, err := Areas()
	if err != nil {
		return err
	}
	if version == 0 {
		if version, err = LatestVersion(ctx, pool); err != nil {
			return err
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM area_person"); err != nil {
			return err
		}
		for _, a := range areas {
			sql, args := areaSQL(a)
			args[0] = version
			args = append(args, a.Name)
			n := len(args)
			tag, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO area_person (area, person_id, entry_date, entry_source, data_version)
				SELECT $%d, s.*, $1 FROM (%s) s`, n, sql), args...)
			if err != nil {
				return fmt.Errorf("area %s: %w", a.Name, err)
			}
			def, _ := json.Marshal(a)
			_, err = tx.Exec(ctx, `INSERT INTO area (name, title, definition, data_version, persons) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title, definition = EXCLUDED.definition,
				data_version = EXCLUDED.data_version, persons = EXCLUDED.persons`, a.Name, a.Title, def, version, tag.RowsAffected())
			if err != nil {
				return fmt.Errorf("area %s: %w", a.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("etl: materialize areas: %w", err)
	}
	return nil
}

// AfterPublish is what runs after each published import: the diagnostics
// of the new version and the areas of interest.
func AfterPublish(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	if _, err := Diagnose(ctx, pool, version); err != nil {
		return err
	}
	return MaterializeAreas(ctx, pool, version)
}
