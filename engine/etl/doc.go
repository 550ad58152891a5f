// Package etl loads the region's administrative flows into Beaver's
// partitioned tables: it reads CSV files (delimiter ';' or ',', UTF-8 or
// Latin-1), validates every row (types, required fields, dates, the
// registry, codes valid at the event date), stages the good rows with binary
// COPY, quarantines the others with file, line, column and reason, and
// publishes an import in one transaction as a new data version. It also
// owns the flow layouts (Flows, documented in docs/flows.md) and the shipped
// code dictionaries (EnsureDictionaries); the hash partitions of the flow
// tables belong to package schema (schema.EnsurePartitions).
//
// Validation runs in two stages: per row in Go while the file streams
// (nothing that needs the database), then per flow in SQL over the staging
// tables (registry, birth and death, codes, duplicate keys). Only the rows
// left in staging after both are published.
package etl
