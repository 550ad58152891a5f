package etl

import "github.com/jackc/pgx/v5"

// Advisory lock keys ("beaver" + n), one per kind of exclusive work; 0x10 is
// schema's partition lock.
const (
	lockImport = int64(0x6265617665720011)
	lockDicts  = int64(0x6265617665720012)
)

// ident quotes an identifier taken from the flow definitions.
func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }
