// Package cohort owns Beaver's study protocol: its Go types, strict
// decoding with JSON paths, validation (errors) and checks (warnings),
// template parameters, the plain-language "methods" description, and the
// compiler of a protocol into a plan of partitioned SQL steps (Compile;
// docs/compiler.md).
//
// The reference for every construct and its exact meaning is
// docs/protocol.md; the JSON Schema is schema/protocol.schema.json. The
// package is pure: no database, no context, no clock.
package cohort
