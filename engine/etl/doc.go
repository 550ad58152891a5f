// Package etl loads the region's administrative flows into Beaver's
// partitioned tables: it reads CSV files (delimiter ';' or ',', UTF-8 or
// Latin-1) and Parquet files, validates every row (types, required fields,
// dates, the registry, codes valid at the event date), loads the good rows
// with binary COPY, quarantines the others with file, line, column and
// reason, and publishes an import in one transaction as a new data version. It also
// owns the flow layouts (Flows, documented in docs/flows.md) and the shipped
// code dictionaries (EnsureDictionaries); the hash partitions of the flow
// tables belong to package schema (schema.EnsurePartitions).
//
// The registry and the dictionaries load first, into staging tables checked
// in SQL (duplicate keys, the registry for enrolment), and are published by
// INSERT ... SELECT. The event flows (leaf.go) are checked entirely in Go
// while their files stream, against the registry and dictionaries held in
// memory, and copied into per-import leaf tables of their hash partitions
// that the publishing transaction attaches (docs/flows.md).
package etl
