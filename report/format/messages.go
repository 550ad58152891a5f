package format

// T returns the label key in the language; an unknown key is returned as
// it is (a test checks that every key used by report and its charts is
// here, in both languages).
func (l Lang) T(key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if l == IT {
		return m[1]
	}
	return m[0]
}

// Has reports whether key is in the message table.
func Has(key string) bool { _, ok := messages[key]; return ok }

// messages holds every label of the charts and reports: English, Italian.
var messages = map[string][2]string{
	// charts
	"days_since_fu":  {"Days since start of follow-up", "Giorni dall'inizio dell'osservazione"},
	"survival":       {"Survival probability", "Probabilità di sopravvivenza"},
	"cum_incidence":  {"Cumulative incidence", "Incidenza cumulativa"},
	"number_at_risk": {"Number at risk", "Numero a rischio"},
	"censored":       {"censored", "censurati"},
	"ci95":           {"95% CI", "IC 95%"},
	"excluded":       {"Excluded", "Esclusi"},
	"persons":        {"persons", "persone"},
	"entries":        {"entries", "ingressi"},
	"not_shown":      {"not shown", "non mostrato"},
	"favours_ref":    {"lower in exposed", "minore negli esposti"},
	"rows":           {"Rows", "Righe"},
	"year":           {"Year", "Anno"},
	"no_data":        {"No data", "Nessun dato"},
	"hr":             {"HR", "HR"},
	"or":             {"OR", "OR"},
	"rr":             {"RR", "RR"},
	"estimate_ci":    {"(95% CI)", "(IC 95%)"},
	"attrition":      {"Attrition", "Selezione della coorte"},
	"log_scale":      {"log scale", "scala logaritmica"},
	"page_of":        {"Page %s of %s", "Pagina %s di %s"},
	// design diagram
	"day0":              {"Day 0", "Giorno 0"},
	"cohort_entry":      {"Cohort entry date", "Data di ingresso nella coorte"},
	"cohort_entry_date": {"Cohort entry (day 0): %s", "Ingresso nella coorte (giorno 0): %s"},
	"calendar_date":     {"calendar date %s", "data di calendario %s"},
	"first_of":          {"first %s", "primo %s"},
	"every_of":          {"every %s", "ogni %s"},
	"accrual":           {"entry dates %s to %s", "date di ingresso dal %s al %s"},
	"washout":           {"Washout: no %s", "Washout: nessun %s"},
	"washout_same":      {"prior occurrence of the index event", "evento indice precedente"},
	"washout_all":       {"prior occurrence of any index event", "evento indice precedente di qualsiasi gruppo"},
	"enrolment":         {"Continuous enrolment", "Iscrizione continuativa"},
	"enrolment_gap":     {"Continuous enrolment (gaps ≤ %s days)", "Iscrizione continuativa (interruzioni ≤ %s giorni)"},
	"inclusion":         {"Inclusion", "Inclusione"},
	"exclusion":         {"Exclusion", "Esclusione"},
	"criterion":         {"Criterion", "Criterio"},
	"demographics_at0":  {"age, sex, residence at day 0", "età, sesso, residenza al giorno 0"},
	"covariates":        {"Covariates", "Covariate"},
	"covariates_td":     {"Time-dependent covariates", "Covariate tempo-dipendenti"},
	"exposure":          {"Exposure", "Esposizione"},
	"exposure_groups":   {"Exposure: %s", "Esposizione: %s"},
	"follow_up":         {"Follow-up", "Osservazione"},
	"follow_up_ends":    {"ends at the earliest of: %s", "termina al primo tra: %s"},
	"outcome":           {"Outcome", "Esito"},
	"end_death":         {"death", "decesso"},
	"end_enrolment":     {"end of enrolment", "fine iscrizione"},
	"end_study":         {"study end %s", "fine studio %s"},
	"end_max_days":      {"%s days", "%s giorni"},
	"end_censoring":     {"censoring: %s", "censura: %s"},
	"end_discont":       {"discontinuation (grace %s days)", "interruzione (tolleranza %s giorni)"},
	"end_switch":        {"switch", "cambio di terapia"},
	"end_index":         {"from the end of the index event", "dalla fine dell'evento indice"},
	"not_to_scale":      {"Time axis not to scale; day ranges in brackets, both bounds included.", "Asse dei tempi non in scala; intervalli in giorni tra parentesi quadre, estremi inclusi."},
	"any_time":          {"any time", "qualsiasi momento"},
}
