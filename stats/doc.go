// Package stats fits the models that Beaver's studies report: Kaplan-Meier,
// Cox proportional hazards (constant and time-dependent covariates),
// logistic and linear regression, and crude and directly standardized rates.
//
// It works on plain slices, imports nothing else of Beaver's, and knows
// nothing of PostgreSQL or HTTP. Its result types are the shapes stored in a
// study's results document, printed by `beaver stats` and drawn by reports,
// so one shape serves the CLI, the API and the PDF.
//
// Every number is checked against R (survival, stats, epitools); the R
// scripts that made the reference values live in testdata/.
//
// Misuse by a caller (slices of different lengths) panics with a "stats: "
// prefix; a numerical failure or degenerate data returns an error.
package stats
