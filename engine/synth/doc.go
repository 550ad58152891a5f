// Package synth generates a synthetic Italian region: a registry of persons
// with their enrolment spells and every administrative flow Beaver imports
// (hospital discharges, pharmacy, direct distribution, exemptions,
// emergency room, outpatient care, birth certificates), together with the
// dictionaries those flows refer to (a synthetic product table, ATC
// structure and outpatient catalogue).
//
// The region is simulated person by person. Each person's randomness comes
// from its own generator, seeded from the run's seed and the person's
// identifier, so the output does not depend on how many goroutines
// generate it: chunks of persons are simulated in parallel and written in
// person order.
//
// Effects are planted by design (the truths T1-T4 of docs/synthetic.md) so
// that a correct study recovers them. Every parameter, with its default and
// source, is in Params and Truth.
package synth
