package stats_test

import (
	"fmt"
	"log"

	"github.com/beaver-analytics/beaver/stats"
)

// Fits coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung) on the
// lung data of the survival package (testdata/cox/lung.csv).
func ExampleCox() {
	f, err := stats.ReadCSVFile("testdata/cox/lung.csv")
	if err != nil {
		log.Fatal(err)
	}
	rows, err := f.Complete("time", "dead", "age", "sex", "ph.ecog")
	if err != nil {
		log.Fatal(err)
	}
	var d stats.CoxData
	if d.Stop, err = f.Floats("time", rows); err != nil {
		log.Fatal(err)
	}
	if d.Event, err = f.Events("dead", rows); err != nil {
		log.Fatal(err)
	}
	des, err := f.Design(rows, []string{"age", "sex", "ph.ecog"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	d.X, d.P, d.Names = des.X, des.P, des.Names

	fit, err := stats.Cox(d, stats.CoxOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("n = %d, events = %d, converged in %d iterations\n", fit.N, fit.Events, fit.Iterations)
	for _, c := range fit.Coefficients {
		fmt.Printf("%-8s HR %.4f (%.4f to %.4f), p = %.3g\n", c.Term, c.HR, c.HRLower, c.HRUpper, float64(c.P))
	}
	fmt.Printf("likelihood ratio test %.2f on %d df\n", fit.LRTest.Chi2, fit.LRTest.DF)

	// the same model with profile-likelihood intervals
	prof, err := stats.Cox(d, stats.CoxOptions{CI: "profile"})
	if err != nil {
		log.Fatal(err)
	}
	sex := prof.Coefficients[1]
	fmt.Printf("%s profile interval %.4f to %.4f\n", sex.Term, sex.HRLower, sex.HRUpper)
	// Output:
	// n = 227, events = 164, converged in 3 iterations
	// age      HR 1.0111 (0.9929 to 1.0297), p = 0.232
	// sex      HR 0.5754 (0.4142 to 0.7994), p = 0.000986
	// ph.ecog  HR 1.5900 (1.2727 to 1.9864), p = 4.45e-05
	// likelihood ratio test 30.50 on 3 df
	// sex profile interval 0.4113 to 0.7950
}

// A covariate that does not vary is left out, as coxph's NA coefficient.
func ExampleCox_dropped() {
	d := stats.CoxData{
		Stop:  []float64{5, 8, 3, 9, 12, 4, 7, 10},
		Event: []bool{true, false, true, true, false, true, true, false},
		X:     []float64{1, 60, 0, 52, 1, 71, 0, 49, 1, 66, 0, 58, 1, 45, 0, 63},
		P:     2,
		Names: []string{"treated", "age"},
	}
	for i := 0; i < 8; i++ {
		d.X[2*i+1] = 60 // every age the same
	}
	fit, err := stats.Cox(d, stats.CoxOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fit.Dropped)
	fmt.Println(fit.Coefficients[1].Coef.IsNA())
	fmt.Println(fit.Warnings[0])
	// Output:
	// [age]
	// true
	// covariate "age" was left out of the model: it has no variation (all values are 60); its coefficient is NA, as R's coxph reports it
}

// Kaplan-Meier curves of the aml data of the survival package
// (survfit(Surv(time, status) ~ x, data = aml)).
func ExampleKaplanMeier() {
	f, err := stats.ReadCSVFile("testdata/km/aml.csv")
	if err != nil {
		log.Fatal(err)
	}
	rows, err := f.Complete("time", "status", "x")
	if err != nil {
		log.Fatal(err)
	}
	time, _ := f.Floats("time", rows)
	event, _ := f.Events("status", rows)
	group, _ := f.Strings("x", rows)
	km, err := stats.KaplanMeier(time, event, group, stats.KMOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range km.Groups {
		fmt.Printf("%-14s n = %d, events = %d, median %v (%v to %v)\n", *g.Group, g.N, g.Events, g.Median, g.MedianLower, g.MedianUpper)
	}
	// Output:
	// Maintained     n = 11, events = 7, median 31 (18 to NaN)
	// Nonmaintained  n = 12, events = 11, median 23 (8 to NaN)
}

// Logistic regression glm(am ~ wt + hp, family = binomial, data = mtcars).
func ExampleLogistic() {
	f, err := stats.ReadCSVFile("testdata/glm/mtcars.csv")
	if err != nil {
		log.Fatal(err)
	}
	rows, err := f.Complete("am", "wt", "hp")
	if err != nil {
		log.Fatal(err)
	}
	y, _ := f.Events("am", rows)
	des, err := f.Design(rows, []string{"wt", "hp"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fit, err := stats.Logistic(y, des, stats.LogisticOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range fit.Coefficients {
		fmt.Printf("%-12s %9.4f (SE %.4f)\n", c.Term, c.Coef, c.SE)
	}
	fmt.Printf("deviance %.4f, AIC %.4f, %d iterations\n", fit.Deviance, fit.AIC, fit.Iterations)
	// Output:
	// (Intercept)    18.8663 (SE 7.4436)
	// wt             -8.0835 (SE 3.0687)
	// hp              0.0363 (SE 0.0177)
	// deviance 10.0591, AIC 16.0591, 8 iterations
}

// Crude rates per 1,000 person-years and the rate ratio of two groups.
func ExampleRates() {
	events := []float64{12, 30, 7, 21}
	personYears := []float64{1500, 2500, 900, 1800}
	group := []string{"exposed", "unexposed", "exposed", "unexposed"}
	res, err := stats.Rates(events, personYears, group, nil, nil, stats.RateOptions{Per: 1000})
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range res.Groups {
		fmt.Printf("%-9s %2.0f events / %4.0f: %.2f (%.2f to %.2f)", *g.Group, g.Events, g.PersonTime, g.Crude, g.CrudeLower, g.CrudeUpper)
		if !g.RateRatio.IsNA() { // NA for the reference (first) group
			fmt.Printf(", rate ratio %.3f (%.3f to %.3f)", g.RateRatio, g.RRLower, g.RRUpper)
		}
		fmt.Println()
	}
	// Output:
	// exposed   19 events / 2400: 7.92 (4.77 to 12.36)
	// unexposed 51 events / 4300: 11.86 (8.83 to 15.59), rate ratio 1.498 (0.885 to 2.537)
}
