// Package results is the results document of a study run (docs/results.md)
// as Go types: the engine (engine/study) writes it, and the command line,
// the web API, the validation tables and the reports (package report) read
// it, all through the same fields.
//
// A Document's Analyses map each analysis's name to an AnalysisResult whose
// Result is one of the concrete types of this package (*Cox, *KaplanMeier,
// *Logistic, *Linear, *Rates, *Descriptive, Attrition, or *Stratified
// around one of them), chosen by the analysis's Kind when decoding. The
// types encode to exactly the bytes the engine has always written, so that
// a document decoded and encoded again is unchanged (the golden documents
// in testdata hold this byte for byte).
//
// Counts below the document's MinCount are suppressed: a Count is then nil
// (null) and the enclosing value says "suppressed": true.
//
// The package imports stats (the fitted models' shapes) and nothing else of
// Beaver's, so that report may import it without importing the engine.
package results
