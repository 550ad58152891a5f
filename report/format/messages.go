package format

import (
	"fmt"
	"strconv"
	"strings"
)

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

// AttritionLabel writes an attrition line's label in the language from its
// key and arguments (cohort.Label, the results document's key and args):
// dates as Date writes them, whole numbers as Number does, the rest as it
// is. A line without a key, or with a key or an argument count the table
// does not know (a document of another version), keeps its text.
func AttritionLabel(lang Lang, text, key string, args []string) string {
	m, ok := messages["att."+key]
	if key == "" || !ok || strings.Count(m[0], "%s") != len(args) {
		return text
	}
	a := make([]any, len(args))
	for i, x := range args {
		if n, err := strconv.Atoi(x); err == nil {
			a[i] = Number(lang, float64(n), 0)
		} else {
			a[i] = Date(lang, x)
		}
	}
	return fmt.Sprintf(lang.T("att."+key), a...)
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
	"gap_days":          {"%s\u00a0days without %s", "%s\u00a0giorni senza %s"},
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
	"end_max_days":      {"%s\u00a0days", "%s\u00a0giorni"},
	"end_censoring":     {"censoring: %s", "censura: %s"},
	"end_discont":       {"discontinuation (grace %s days)", "interruzione (tolleranza %s giorni)"},
	"end_switch":        {"switch", "cambio di terapia"},
	"end_index":         {"from the end of the index event", "dalla fine dell'evento indice"},
	"not_to_scale":      {"Time axis not to scale; day ranges in brackets, both bounds included.", "Asse dei tempi non in scala; intervalli in giorni tra parentesi quadre, estremi inclusi."},
	// attrition lines: "att." and a cohort.Label key (report's
	// TestAttritionMessages checks the English against cohort's)
	"att.index_days":       {"days with an index event", "giorni con un evento indice"},
	"att.index_days_scope": {"days with an index event in the data scope (%s)", "giorni con un evento indice nell'ambito dei dati (%s)"},
	"att.registry":         {"persons in the registry", "assistiti in anagrafe"},
	"att.registry_scope":   {"persons in the registry in the data scope (%s)", "assistiti in anagrafe nell'ambito dei dati (%s)"},
	"att.accrual":          {"day 0 in the accrual period (%s to %s)", "giorno 0 nel periodo di arruolamento (dal %s al %s)"},
	"att.alive":            {"alive on day 0", "in vita al giorno 0"},
	"att.area":             {"in the area %s on day 0", "nell'area %s al giorno 0"},
	"att.sex":              {"sex %s", "sesso %s"},
	"att.age_range":        {"aged %s to %s on day 0", "età da %s a %s anni al giorno 0"},
	"att.age_min":          {"aged %s or more on day 0", "età di %s anni o più al giorno 0"},
	"att.age_max":          {"aged %s or less on day 0", "età di %s anni o meno al giorno 0"},
	"att.resident":         {"resident in %s on day 0", "residente in %s al giorno 0"},
	"att.enrolled":         {"enrolled on days %s to %s", "iscritto all'anagrafe nei giorni da %s a %s"},
	"att.enrolled_day0":    {"enrolled on day 0", "iscritto all'anagrafe al giorno 0"},
	"att.washout_same":     {"washout: no occurrence of the same index event on days -%s to -1", "washout: nessuna occorrenza dello stesso evento indice nei giorni da -%s a -1"},
	"att.washout_any":      {"washout: no occurrence of any index event on days -%s to -1", "washout: nessuna occorrenza di alcun evento indice nei giorni da -%s a -1"},
	"att.first_day":        {"first qualifying day of each person", "primo giorno idoneo di ciascun assistito"},
	"att.one_group":        {"one exposure group on day 0", "un solo gruppo di esposizione al giorno 0"},
	// report
	"study":               {"Study", "Studio"},
	"author":              {"Author", "Autore"},
	"run":                 {"Run", "Esecuzione"},
	"data_version":        {"Data", "Dati"},
	"data_version_fmt":    {"version %d, data up to %s", "versione %d, dati fino al %s"},
	"protocol_hash":       {"Protocol hash (SHA-256)", "Impronta del protocollo (SHA-256)"},
	"software":            {"Software", "Software"},
	"scope":               {"Data scope", "Ambito dei dati"},
	"scope_all":           {"the whole region", "l'intera regione"},
	"min_count":           {"Minimum cell count", "Numerosità minima delle celle"},
	"min_count_fmt":       {"%d (smaller counts shown as %s)", "%d (conteggi inferiori indicati come %s)"},
	"methods":             {"Methods", "Metodi"},
	"design_caption":      {"Study design. Day 0 is the cohort entry date; boxes are the time windows of each phase, with their day ranges.", "Disegno dello studio. Il giorno 0 è la data di ingresso nella coorte; i riquadri sono le finestre temporali di ogni fase, con i relativi intervalli in giorni."},
	"figure_n":            {"Figure %d.", "Figura %d."},
	"table_n":             {"Table %d.", "Tabella %d."},
	"suppressed_note":     {"%s: not shown, to protect the persons counted: fewer than %d, or a count from which such a small one could be worked out.", "%s: non mostrato, a tutela delle persone contate: meno di %d, o un conteggio da cui se ne potrebbe ricavare uno così piccolo."},
	"results":             {"Results", "Risultati"},
	"attrition_caption":   {"Selection of the cohort: persons (and cohort entries) left after each step.", "Selezione della coorte: persone (e ingressi) rimaste dopo ogni passo."},
	"attrition_table":     {"Attrition.", "Selezione della coorte."},
	"step":                {"Step", "Passo"},
	"persons_col":         {"Persons", "Persone"},
	"entries_col":         {"Entries", "Ingressi"},
	"not_computed":        {"Not computed", "Non calcolato"},
	"stratified_by":       {"Computed within each class of %s.", "Calcolato in ciascuna classe di %s."},
	"descriptive_caption": {"Characteristics of the cohort at day 0.", "Caratteristiche della coorte al giorno 0."},
	"descriptive_by":      {"Characteristics at day 0 by %s.", "Caratteristiche al giorno 0 per %s."},
	"variable":            {"Variable", "Variabile"},
	"mean_sd":             {"mean (SD)", "media (DS)"},
	"median_iqr":          {"median (IQR)", "mediana (IQR)"},
	"missing":             {"missing", "mancanti"},
	"smd_note":            {"SMD: standardized mean difference against %s (Austin 2009; categorical: Yang & Dalton 2012).", "SMD: differenza media standardizzata rispetto a %s (Austin 2009; categoriche: Yang & Dalton 2012)."},
	"km_caption":          {"Cumulative incidence of %s (1 − Kaplan-Meier) with 95%% confidence bands and numbers at risk.", "Incidenza cumulativa di %s (1 − Kaplan-Meier) con bande di confidenza al 95%% e numero a rischio."},
	"km_no_steps":         {"Curves not shown: fewer than %d events between steps.", "Curve non mostrate: meno di %d eventi tra i gradini."},
	"km_table":            {"Kaplan-Meier estimates for %s.", "Stime di Kaplan-Meier per %s."},
	"group":               {"Group", "Gruppo"},
	"events":              {"Events", "Eventi"},
	"df":                  {"df", "gl"},
	"events_lc":           {"events", "eventi"},
	"median_ci":           {"Median, days (95% CI)", "Mediana, giorni (IC 95%)"},
	"not_reached":         {"not reached", "non raggiunta"},
	"model_cox":           {"Cox proportional hazards model for %s.", "Modello di Cox a rischi proporzionali per %s."},
	"model_logistic":      {"Logistic regression model for %s.", "Modello di regressione logistica per %s."},
	"model_linear":        {"Linear regression model of %s.", "Modello di regressione lineare di %s."},
	"term":                {"Term", "Termine"},
	"coef":                {"Coefficient", "Coefficiente"},
	"se":                  {"SE", "ES"},
	"ci_col":              {"(95% CI)", "(IC 95%)"},
	"ties":                {"ties", "eventi simultanei"},
	"counting_process":    {"time-dependent covariates (counting process)", "covariate tempo-dipendenti (processo di conteggio)"},
	"horizon":             {"outcome within %d days", "esito entro %d giorni"},
	"test_lr":             {"likelihood ratio test", "test del rapporto di verosimiglianza"},
	"test_wald":           {"Wald test", "test di Wald"},
	"test_score":          {"score (log-rank) test", "test score (log-rank)"},
	"ph_caption":          {"Test of proportional hazards (scaled Schoenfeld residuals).", "Test dei rischi proporzionali (residui di Schoenfeld scalati)."},
	"forest_caption":      {"%s with 95%% confidence intervals for %s (log scale).", "%s con intervalli di confidenza al 95%% per %s (scala logaritmica)."},
	"rates_caption":       {"Rates of %s per %s person-years.", "Tassi di %s per %s anni-persona."},
	"person_years":        {"Person-years", "Anni-persona"},
	"crude_rate":          {"Crude rate (95% CI)", "Tasso grezzo (IC 95%)"},
	"std_rate":            {"Standardized rate (95% CI)", "Tasso standardizzato (IC 95%)"},
	"rate_ratio":          {"Rate ratio (95% CI)", "Rapporto tra tassi (IC 95%)"},
	"crude":               {"crude", "grezzo"},
	"standardized":        {"standardized", "standardizzato"},
	"reference":           {"reference", "riferimento"},
	"per_py":              {"per %s person-years", "per %s anni-persona"},
	"rates_figure":        {"Rates of %s with 95%% confidence intervals.", "Tassi di %s con intervalli di confidenza al 95%%."},
	"notes":               {"Notes", "Note"},
	"appendix":            {"Appendix", "Appendice"},
	"steps_caption":       {"Steps of the run: rows written and wall time.", "Passi dell'esecuzione: righe scritte e tempo impiegato."},
	"kind":                {"Kind", "Tipo"},
	"wall_ms":             {"Time (ms)", "Tempo (ms)"},
	"reused_from":         {"reused from run %d", "riusato dall'esecuzione %d"},
	"analyses_ms":         {"Analyses: %s ms.", "Analisi: %s ms."},
	"kind_attrition":      {"Attrition", "Selezione della coorte"},
	"kind_descriptive":    {"Descriptive table", "Tabella descrittiva"},
	"kind_kaplan_meier":   {"Kaplan-Meier", "Kaplan-Meier"},
	"kind_cox":            {"Cox model", "Modello di Cox"},
	"kind_logistic":       {"Logistic model", "Modello logistico"},
	"kind_linear":         {"Linear model", "Modello lineare"},
	"kind_rates":          {"Rates", "Tassi"},
	"missing_result":      {"missing from the results document", "assente dal documento dei risultati"},
	"all":                 {"all", "tutti"},
	"protocol_json":       {"Protocol", "Protocollo"},
	"any_time":            {"any time", "qualsiasi momento"},
}
