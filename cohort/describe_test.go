package cohort

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDescribeExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		example, lang string
		want          []string
	}{
		{"comparator-new-users", "en", []string{
			"aged 40 to 90 years at the index date",
			"at least 365 days before the index date",
			"group A at the first dispensing of ACE inhibitors, plain and combinations",
			"Only new users were included",
			"(1) no hospital admission for AMI (principal diagnosis) from day -365 to day -1 relative to the index date (both included)",
			"Follow-up started on day 1 after the index date",
			"the end of the study on 31 December 2019",
			"between 1 January 2013 and 31 December 2018",
			"the end of the data (the last day with an event in the flows)",
			"adjusted: hazard ratios of acute myocardial infarction from a Cox proportional hazards model (Efron ties) with exposure, age, sex, diabetes",
			"ami (ICD-9-CM): 410*",
		}},
		{"comparator-new-users", "it", []string{
			"di età compresa tra 40 e 90 anni alla data indice",
			"tra il 1° gennaio 2013 e il 31 dicembre 2018",
			"Sono stati inclusi solo i nuovi utilizzatori",
			"dal giorno -365 al giorno -1 rispetto alla data indice (estremi inclusi)",
			"modello di Cox a rischi proporzionali",
			"la fine dei dati (l'ultimo giorno con un evento nei flussi)",
		}},
		{"current-use", "en", []string{
			"All eligible persons enrolled on 1 January 2013 entered the cohort",
			"current_use", ", time-dependent",
			"episodes (start, stop]",
		}},
		{"current-use", "it", []string{"tempo-dipendente", "episodi (inizio, fine]"}},
		{"hip-fracture-rates", "en", []string{
			"enrolled on ‹year›-01-01",
			"incidence rates of hospitalization for hip fracture per 10000 person-years by asl, crude and directly standardized by age_class, sex to the registry population on ‹year›-01-01",
			"the end of the study on ‹year+4›-12-31",
		}},
		{"hip-fracture-rates", "it", []string{"grezzi e standardizzati con metodo diretto per age_class, sex"}},
	}
	for _, tc := range cases {
		t.Run(tc.example+"/"+tc.lang, func(t *testing.T) {
			t.Parallel()
			p := loadExample(t, tc.example)
			got, err := Describe(p, tc.lang)
			require.NoError(t, err)
			for _, w := range tc.want {
				require.Contains(t, got, w)
			}
			again, _ := Describe(p, tc.lang)
			require.Equal(t, got, again, "deterministic")
		})
	}
	p := loadExample(t, "hip-fracture-rates")
	q, err := p.Bind(map[string]string{"year": "2014"})
	require.NoError(t, err)
	got, _ := Describe(q, "en")
	require.Contains(t, got, "31 December 2018")
	require.False(t, strings.Contains(got, "‹"), "a bound protocol has no placeholders")
	for _, tc := range []struct{ dataEnd, lang, want string }{
		{DataEndEnrolment, "en", "the end of the data, taken as the last day of enrolment in the registry"},
		{DataEndEnrolment, "it", "la fine dei dati, intesa come l'ultimo giorno di iscrizione all'anagrafe"},
		{"2018-06-30", "en", "the end of the data on 30 June 2018"},
		{"2018-06-30", "it", "la fine dei dati il 30 giugno 2018"},
	} {
		r := loadExample(t, "comparator-new-users")
		r.Phases.FollowUp.End.DataEnd = D(tc.dataEnd)
		got, _ := Describe(r, tc.lang)
		require.Contains(t, got, tc.want)
	}
	// A time-dependent window is relative to each day of follow-up.
	td := loadExample(t, "current-use")
	td.Phases.Covariates = append(td.Phases.Covariates, Covariate{Name: "bleed", Kind: KindPresence, Timing: TimingTimeDependent,
		Event: "gi_bleeding_admission", Window: &Window{Start: I(-182), End: I(0)}})
	en, _ := Describe(td, "en")
	require.Contains(t, en, "(principal diagnosis) from day -182 to day 0 relative to each day of follow-up (both included)")
	require.NotContains(t, en, "day 0 relative to the index date")
	it, _ := Describe(td, "it")
	require.Contains(t, it, "dal giorno -182 al giorno 0 rispetto a ciascun giorno di osservazione (estremi inclusi)")
	_, err = Describe(p, "fr")
	require.ErrorContains(t, err, `unknown language "fr"`)
}
