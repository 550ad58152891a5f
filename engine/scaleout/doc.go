// Package scaleout holds the checks that Beaver's studies run unchanged on
// a Citus cluster distributed by person (schema.InitCitus,
// docs/scale-out.md): the same results documents byte for byte as on one
// PostgreSQL, every step pushed down to the shards whole, imports still
// atomic, and a run that survives a worker's outage. It has no code of its
// own beyond the test helpers in this file's package.
package scaleout
