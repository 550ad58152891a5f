package etl

import (
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The public dictionaries shipped with Beaver (docs/data-sources.md).
//
//go:embed dictionaries/*.csv
var dictFS embed.FS

// dictVersion names the shipped dictionaries' content; EnsureDictionaries
// reloads them when it changes.
const dictVersion = "icd9cm-v32+it2007;esenzioni-2020-06-06;1"

const settingDicts = "dictionaries"

// openSince is the validity start given to codes whose source states no
// start date: they are taken as valid for every event the import accepts.
var openSince = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// EnsureDictionaries loads the shipped ICD-9-CM and exemption dictionaries
// unless this version of them is already loaded. It is idempotent.
//
// ICD-9-CM validity: a code that is a leaf of the Italian 2007 version is
// valid from openSince with no end (the source gives no dates); E-codes,
// which the Italian source lacks, likewise; a leaf of the US CMS v32 list
// that is not a leaf of the Italian version is known but never valid
// (valid_from NULL), so it is refused as out of validity, not as unknown.
func EnsureDictionaries(ctx context.Context, pool *pgxpool.Pool) error {
	if err := ensureDictionaries(ctx, pool); err != nil {
		return fmt.Errorf("etl: %w", err)
	}
	return nil
}

// ensureDictionaries is EnsureDictionaries without the package's prefix.
func ensureDictionaries(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockDicts); err != nil {
			return err
		}
		var have string
		err := tx.QueryRow(ctx, "SELECT coalesce((SELECT value FROM etl_setting WHERE key = $1), '')", settingDicts).Scan(&have)
		if err != nil || have == dictVersion {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM dict_icd9cm"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM dict_exemption"); err != nil {
			return err
		}
		icd, err := icd9Rows()
		if err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"dict_icd9cm"},
			[]string{"kind", "code", "description", "leaf_cms_v32", "leaf_it2007", "valid_from", "valid_to"},
			pgx.CopyFromRows(icd)); err != nil {
			return fmt.Errorf("copy dict_icd9cm: %w", err)
		}
		ex, err := exemptionRows()
		if err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"dict_exemption"},
			[]string{"code", "kind", "description", "assignable", "valid_from", "valid_to"},
			pgx.CopyFromRows(ex)); err != nil {
			return fmt.Errorf("copy dict_exemption: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO etl_setting (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, settingDicts, dictVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("load dictionaries: %w", err)
	}
	return nil
}

// readDict reads an embedded CSV file as maps from header name to value.
func readDict(name string, each func(rec map[string]string) error) error {
	f, err := dictFS.Open("dictionaries/" + name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rec := make(map[string]string, len(header))
		for i, h := range header {
			rec[h] = row[i]
		}
		if err := each(rec); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

func icd9Rows() ([][]any, error) {
	desc := map[string]string{}
	for kind, file := range map[string]string{"dx": "icd9cm_v32_diagnoses.csv", "proc": "icd9cm_v32_procedures.csv"} {
		err := readDict(file, func(r map[string]string) error {
			desc[kind+" "+r["code"]] = r["description_long"]
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var rows [][]any
	err := readDict("icd9cm_code_validity_it2007_vs_cms_v32.csv", func(r map[string]string) error {
		var leafIT any
		var from any = openSince
		switch r["leaf_in_it2007"] {
		case "1":
			leafIT = true
		case "0":
			leafIT, from = false, nil
		}
		rows = append(rows, []any{r["kind"], r["code"], desc[r["kind"]+" "+r["code"]],
			r["leaf_in_cms_v32"] == "1", leafIT, from, nil})
		return nil
	})
	return rows, err
}

func exemptionRows() ([][]any, error) {
	var rows [][]any
	err := readDict("esenzioni_codici.csv", func(r map[string]string) error {
		from, err := time.Parse(time.DateOnly, r["inizio_validita"])
		if err != nil {
			return fmt.Errorf("code %s: inizio_validita: %w", r["codice"], err)
		}
		var to any
		if v := r["fine_validita"]; v != "" && v != "9999-12-31" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return fmt.Errorf("code %s: fine_validita: %w", r["codice"], err)
			}
			to = t
		}
		rows = append(rows, []any{r["codice"], r["cod_tipo"], r["descrizione"], r["assegnabile"] == "S", from, to})
		return nil
	})
	return rows, err
}
