package cohort

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Describe writes the "methods" paragraphs of a paper for the protocol, in
// English ("en") or Italian ("it"): population, cohort entry, criteria,
// follow-up, covariates, outcomes, analyses and the codes used. It reads a
// valid protocol; placeholders are written as ‹name›.
func Describe(p *Protocol, lang string) (string, error) {
	if lang != "en" && lang != "it" {
		return "", fmt.Errorf("cohort: describe: unknown language %q (use \"en\" or \"it\")", lang)
	}
	d := &describer{p: p, it: lang == "it", events: map[string]*EventDef{}, lists: map[string]*CodeList{}}
	for i := range p.Events {
		d.events[p.Events[i].Name] = &p.Events[i]
	}
	for i := range p.CodeLists {
		if cl, err := resolveCodeList(&p.CodeLists[i]); err == nil {
			d.lists[cl.Name] = cl
		} else {
			d.lists[p.CodeLists[i].Name] = &p.CodeLists[i]
		}
	}
	d.population()
	d.index()
	d.criteria()
	d.followUp()
	d.covariates()
	d.outcomes()
	d.analyses()
	d.codes()
	return strings.TrimSpace(d.b.String()) + "\n", nil
}

type describer struct {
	p      *Protocol
	it     bool
	b      strings.Builder
	events map[string]*EventDef
	lists  map[string]*CodeList
}

func (d *describer) tr(en, it string) string {
	if d.it {
		return it
	}
	return en
}

func (d *describer) para(parts ...string) {
	s := strings.TrimSpace(strings.Join(parts, " "))
	if s != "" {
		d.b.WriteString(s + "\n\n")
	}
}

func (d *describer) date(x *Date) string {
	switch {
	case x == nil:
		return "…"
	case x.IsParam() && x.Day != "":
		y := "‹" + x.Param + "›"
		if x.AddYears != 0 {
			y = fmt.Sprintf("‹%s%+d›", x.Param, x.AddYears)
		}
		return y + "-" + x.Day
	case x.IsParam():
		return "‹" + x.Param + "›"
	}
	return d.longDate(x.V)
}

// longDate writes a date as prose does: "1 January 2013", "1° gennaio
// 2013"; anything but YYYY-MM-DD as it is.
func (d *describer) longDate(iso string) string {
	t, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	if d.it {
		day := strconv.Itoa(t.Day())
		if t.Day() == 1 {
			day = "1°" // il 1° gennaio
		}
		return fmt.Sprintf("%s %s %d", day, monthsIT[t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), t.Month(), t.Year())
}

var monthsIT = [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}

func (d *describer) num(x *Int) string {
	if x == nil {
		return "…"
	}
	if x.IsParam() {
		return "‹" + x.Param + "›"
	}
	return fmt.Sprint(x.V)
}

func (d *describer) text(x Text) string {
	if x.IsParam() {
		return "‹" + x.Param + "›"
	}
	return x.V
}

func (d *describer) texts(xs []Text) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = d.text(x)
	}
	return strings.Join(out, ", ")
}

// event names an event definition by its title or name.
func (d *describer) event(name string) string {
	ev, ok := d.events[name]
	if !ok {
		return name
	}
	if ev.Title != "" {
		return lowerFirst(ev.Title)
	}
	src := map[string][2]string{
		SourceHospitalDiagnosis: {"hospital admission with a diagnosis of", "ricovero con diagnosi di"},
		SourceHospitalProcedure: {"hospital procedure of", "procedura ospedaliera di"},
		SourceHospitalAdmission: {"hospital admission", "ricovero ospedaliero"},
		SourceERDiagnosis:       {"emergency room access with a diagnosis of", "accesso in pronto soccorso con diagnosi di"},
		SourceERAccess:          {"emergency room access", "accesso in pronto soccorso"},
		SourceDispensing:        {"dispensing of", "dispensazione di"},
		SourceExemption:         {"co-pay exemption for", "esenzione ticket per"},
		SourceOutpatient:        {"outpatient service", "prestazione ambulatoriale"},
		SourceDeath:             {"death", "decesso"},
		SourceDelivery:          {"delivery", "parto"},
	}[ev.Source]
	s := d.tr(src[0], src[1])
	var lists []string
	for _, l := range ev.CodeLists {
		if cl, ok := d.lists[l]; ok && cl.Title != "" {
			lists = append(lists, lowerFirst(cl.Title))
		} else {
			lists = append(lists, l)
		}
	}
	if len(lists) > 0 {
		s += " " + strings.Join(lists, d.tr(" or ", " o "))
	}
	if ev.Position == "principal" {
		s += d.tr(" (principal diagnosis)", " (diagnosi principale)")
	}
	return s
}

func (d *describer) eventList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = d.event(n)
	}
	return strings.Join(out, d.tr(" or ", " o "))
}

func (d *describer) window(w *Window) string {
	if w == nil {
		return ""
	}
	anchor := d.tr("the index date", "alla data indice")
	if w.Anchor == AnchorIndexEnd {
		anchor = d.tr("the end of the index event", "alla fine dell'evento indice")
	}
	return d.windowFrom(w, anchor)
}

// windowFrom describes a window relative to anchor ("the index date").
func (d *describer) windowFrom(w *Window, anchor string) string {
	switch {
	case w.Start == nil && w.End == nil:
		return d.tr("at any time", "in qualsiasi momento")
	case w.Start == nil:
		return fmt.Sprintf(d.tr("up to day %s relative to %s", "fino al giorno %s rispetto %s"), d.num(w.End), anchor)
	case w.End == nil:
		return fmt.Sprintf(d.tr("from day %s relative to %s onwards", "dal giorno %s rispetto %s in poi"), d.num(w.Start), anchor)
	}
	return fmt.Sprintf(d.tr("from day %s to day %s relative to %s (both included)", "dal giorno %s al giorno %s rispetto %s (estremi inclusi)"), d.num(w.Start), d.num(w.End), anchor)
}

func (d *describer) population() {
	pop := d.p.Phases.Population
	where := d.tr("all persons in the regional registry of health-care beneficiaries", "tutti gli assistiti dell'anagrafe sanitaria regionale")
	if pop.Area != nil {
		where = fmt.Sprintf(d.tr("persons of the area of interest %q", "gli assistiti dell'area di interesse %q"), d.text(*pop.Area))
	}
	s := fmt.Sprintf(d.tr("The study population comprised %s", "La popolazione in studio comprendeva %s"), where)
	if a := pop.Age; a != nil {
		switch {
		case a.Min != nil && a.Max != nil:
			s += fmt.Sprintf(d.tr(" aged %s to %s years at the index date", " di età compresa tra %s e %s anni alla data indice"), d.num(a.Min), d.num(a.Max))
		case a.Min != nil:
			s += fmt.Sprintf(d.tr(" aged %s years or more at the index date", " di età pari o superiore a %s anni alla data indice"), d.num(a.Min))
		default:
			s += fmt.Sprintf(d.tr(" aged %s years or less at the index date", " di età fino a %s anni alla data indice"), d.num(a.Max))
		}
	}
	if pop.Sex != "" {
		s += map[string]string{"M": d.tr(", men only", ", solo maschi"), "F": d.tr(", women only", ", solo femmine")}[pop.Sex]
	}
	if len(pop.ASLs) > 0 {
		s += fmt.Sprintf(d.tr(", resident in the ASLs %s", ", residenti nelle ASL %s"), d.texts(pop.ASLs))
	}
	s += "."
	e := pop.Enrolment
	if e.Before != nil && (e.Before.IsParam() || e.Before.V > 0) {
		s += fmt.Sprintf(d.tr(" Persons had to be continuously enrolled for at least %s days before the index date", " Era richiesta un'iscrizione continuativa all'anagrafe di almeno %s giorni prima della data indice"), d.num(e.Before))
		if e.After != nil && (e.After.IsParam() || e.After.V > 0) {
			s += fmt.Sprintf(d.tr(" and %s days after it", " e di %s giorni dopo"), d.num(e.After))
		}
		if e.MaxGap != nil && (e.MaxGap.IsParam() || e.MaxGap.V > 0) {
			s += fmt.Sprintf(d.tr(", allowing gaps of up to %s days", ", tollerando interruzioni fino a %s giorni"), d.num(e.MaxGap))
		}
		s += "."
	}
	d.para(s)
}

func (d *describer) index() {
	ix := d.p.Phases.Index
	acc := d.p.Phases.Population.Accrual
	var s string
	switch {
	case ix.Date != nil:
		s = fmt.Sprintf(d.tr("All eligible persons enrolled on %s entered the cohort on that date (index date, day 0).", "Tutti gli assistiti eleggibili iscritti al %s sono entrati nella coorte in quella data (data indice, giorno 0)."), d.date(ix.Date))
	default:
		which := d.tr("the first", "alla prima")
		if ix.Occurrence == "all" {
			which = d.tr("every", "a ogni")
		}
		if len(ix.Groups) > 0 {
			var gs []string
			for _, g := range ix.Groups {
				gs = append(gs, fmt.Sprintf(d.tr("group %s at %s %s", "gruppo %s %s %s"), g.Name, which, d.eventList(g.Events)))
			}
			s = fmt.Sprintf(d.tr("Persons entered the cohort (index date, day 0) between %s and %s: %s. Persons with events of two groups on the index date were excluded.", "Gli assistiti sono entrati nella coorte (data indice, giorno 0) tra il %s e il %s: %s. Sono stati esclusi gli assistiti con eventi di due gruppi alla data indice."),
				d.date(acc.Start), d.date(acc.End), strings.Join(gs, "; "))
		} else {
			s = fmt.Sprintf(d.tr("Persons entered the cohort at %s %s between %s and %s (index date, day 0).", "Gli assistiti sono entrati nella coorte %s %s tra il %s e il %s (data indice, giorno 0)."),
				which, d.eventList(ix.Events), d.date(acc.Start), d.date(acc.End))
		}
		if w := ix.Washout; w != nil {
			scope := d.tr("the same event", "lo stesso evento")
			if w.Scope == "all" {
				scope = d.tr("any of the index events", "uno qualsiasi degli eventi indice")
			}
			s += fmt.Sprintf(d.tr(" Only new users were included: an occurrence qualified only if %s did not occur in the %s days before it.", " Sono stati inclusi solo i nuovi utilizzatori: un evento era valido solo se %s non si era verificato nei %s giorni precedenti."), scope, d.num(&w.Days))
		}
	}
	d.para(s)
}

func (d *describer) count(c *Count) string {
	if c == nil {
		return d.tr("at least one", "almeno un")
	}
	switch {
	case c.AtMost != nil && *c.AtMost == 0:
		return d.tr("no", "nessun")
	case c.AtLeast != nil:
		return fmt.Sprintf(d.tr("at least %d", "almeno %d"), *c.AtLeast)
	case c.AtMost != nil:
		return fmt.Sprintf(d.tr("at most %d", "al massimo %d"), *c.AtMost)
	case c.Exactly != nil:
		return fmt.Sprintf(d.tr("exactly %d", "esattamente %d"), *c.Exactly)
	}
	return ""
}

func (d *describer) criterion(c *Criterion) string {
	switch {
	case c.Event != "":
		where := d.window(c.Window)
		if c.Dates != nil {
			where = fmt.Sprintf(d.tr("between %s and %s", "tra il %s e il %s"), d.date(c.Dates.Start), d.date(c.Dates.End))
		}
		where += d.overlap(c.Match)
		s := fmt.Sprintf("%s %s %s", d.count(c.Count), d.event(c.Event), where)
		if c.Count != nil && c.Count.DistinctDates {
			s += d.tr(" (on distinct dates)", " (in date distinte)")
		}
		if ds := c.Distance; ds != nil {
			with := d.tr("followed", "seguito")
			if ds.Absent {
				with = d.tr("not followed", "non seguito")
			}
			s += fmt.Sprintf(d.tr(", %s by %s between day %s and day %s after it", ", %s da %s tra il giorno %s e il giorno %s successivo"), with, d.event(ds.Event), d.num(ds.Start), d.num(ds.End))
		}
		return s
	case c.Gap != nil:
		return fmt.Sprintf(d.tr("a period of at least %s days without %s %s", "un periodo di almeno %s giorni senza %s %s"), d.num(&c.Gap.Days), d.event(c.Gap.Event), d.window(c.Window))
	case c.Demographic != nil:
		var parts []string
		if a := c.Demographic.Age; a != nil {
			parts = append(parts, fmt.Sprintf(d.tr("age %s–%s years", "età %s–%s anni"), d.num(a.Min), d.num(a.Max)))
		}
		if c.Demographic.Sex != "" {
			parts = append(parts, d.tr("sex ", "sesso ")+c.Demographic.Sex)
		}
		if len(c.Demographic.ASLs) > 0 {
			parts = append(parts, "ASL "+d.texts(c.Demographic.ASLs))
		}
		if len(c.Demographic.Municipalities) > 0 {
			parts = append(parts, d.tr("municipality ", "comune ")+d.texts(c.Demographic.Municipalities))
		}
		return strings.Join(parts, ", ") + d.tr(" at the index date", " alla data indice")
	case c.Group != nil:
		op := map[string][2]string{OpAll: {"all of", "tutte le condizioni"}, OpAny: {"any of", "almeno una delle condizioni"},
			OpAtLeast: {"at least %d of", "almeno %d delle condizioni"}, OpAtMost: {"at most %d of", "al massimo %d delle condizioni"}}[c.Group.Op]
		head := d.tr(op[0], op[1])
		if c.Group.N != nil {
			head = fmt.Sprintf(head, *c.Group.N)
		}
		parts := make([]string, len(c.Group.Criteria))
		for i := range c.Group.Criteria {
			parts[i] = d.criterion(&c.Group.Criteria[i])
		}
		return head + ": (" + strings.Join(parts, "; ") + ")"
	}
	return ""
}

func (d *describer) criteria() {
	cs := d.p.Phases.Criteria
	if len(cs) == 0 {
		return
	}
	parts := make([]string, len(cs))
	for i := range cs {
		parts[i] = fmt.Sprintf("(%d) %s [%s]", i+1, d.criterion(&cs[i]), cs[i].Name)
	}
	d.para(d.tr("Persons were included if they met, in order, the following criteria:", "Sono stati inclusi gli assistiti che soddisfacevano, nell'ordine, i seguenti criteri:"), strings.Join(parts, "; ")+".")
}

func (d *describer) followUp() {
	f := d.p.Phases.FollowUp
	var ends []string
	for _, o := range f.End.Outcomes {
		ends = append(ends, d.tr("the outcome ", "l'esito ")+d.outcomeTitle(o))
	}
	if f.End.Death == nil || *f.End.Death {
		ends = append(ends, d.tr("death", "il decesso"))
	}
	if f.End.EnrolmentEnd == nil || *f.End.EnrolmentEnd {
		ends = append(ends, d.tr("the end of enrolment", "la fine dell'iscrizione all'anagrafe"))
	}
	if f.End.StudyEnd != nil {
		ends = append(ends, d.tr("the end of the study on ", "la fine dello studio il ")+d.date(f.End.StudyEnd))
	}
	if f.End.MaxDays != nil {
		ends = append(ends, fmt.Sprintf(d.tr("%s days of follow-up", "%s giorni di osservazione"), d.num(f.End.MaxDays)))
	}
	switch de := f.End.DataEnd; {
	case de == nil || de.V == DataEndFlows:
		ends = append(ends, d.tr("the end of the data (the last day with an event in the flows)", "la fine dei dati (l'ultimo giorno con un evento nei flussi)"))
	case de.V == DataEndEnrolment:
		ends = append(ends, d.tr("the end of the data, taken as the last day of enrolment in the registry", "la fine dei dati, intesa come l'ultimo giorno di iscrizione all'anagrafe"))
	default:
		ends = append(ends, d.tr("the end of the data on ", "la fine dei dati il ")+d.date(de))
	}
	if len(f.End.Censoring) > 0 {
		ends = append(ends, d.eventList(f.End.Censoring))
	}
	if dc := f.End.Discontinuation; dc != nil {
		ends = append(ends, fmt.Sprintf(d.tr("discontinuation of the index treatment (a gap of more than %s days between supplies)", "l'interruzione del trattamento indice (un intervallo di più di %s giorni tra le coperture)"), d.num(&dc.GraceDays)))
	}
	if sw := f.End.Switch; sw != nil {
		ends = append(ends, d.tr("a switch to another treatment", "il passaggio ad altro trattamento"))
	}
	d.para(fmt.Sprintf(d.tr("Follow-up started on day %s after the index date and ended at the earliest of: %s.", "Il periodo di osservazione è iniziato il giorno %s dopo la data indice ed è terminato al primo tra: %s."),
		d.num(&f.Start), strings.Join(ends, "; ")))
}

func (d *describer) outcomeTitle(name string) string {
	for _, o := range d.p.Phases.Outcomes {
		if o.Name == name {
			if o.Title != "" {
				return lowerFirst(o.Title)
			}
			return d.eventList(o.Events)
		}
	}
	return name
}

func (d *describer) covariate(c *Covariate) string {
	title := c.Title
	if title == "" {
		title = c.Name
	}
	var what string
	switch c.Kind {
	case KindAge:
		what = d.tr("age in years at the index date", "età in anni alla data indice")
	case KindSex, KindASL, KindMunicipality, KindGP, KindCalendarYear:
		what = d.tr("at the index date", "alla data indice")
	case KindIndexGroup:
		what = d.tr("exposure group", "gruppo di esposizione")
	case KindPresence, KindCount, KindDaysSinceLast:
		k := map[string][2]string{KindPresence: {"any", "almeno un evento di"}, KindCount: {"number of", "numero di"}, KindDaysSinceLast: {"days since the last", "giorni dall'ultimo evento di"}}[c.Kind]
		win := d.window(c.Window)
		if c.Timing == TimingTimeDependent {
			// Re-evaluated on every day: the window is relative to that
			// day, not to the index date (issue 14, point 13).
			win = d.windowFrom(c.Window, d.tr("each day of follow-up", "a ciascun giorno di osservazione"))
		}
		what = d.tr(k[0], k[1]) + " " + d.event(c.Event) + " " + win + d.overlap(c.Match)
	case KindCharlson:
		what = d.tr("Charlson comorbidity index (Quan 2005, ICD-9-CM) ", "indice di comorbidità di Charlson (Quan 2005, ICD-9-CM) ") + d.window(c.Window)
	case KindMCS:
		what = d.tr("Multisource Comorbidity Score (Corrao et al. 2017) ", "Multisource Comorbidity Score (Corrao et al. 2017) ") + d.window(c.Window)
	case KindCost:
		what = d.tr("health-care costs of ", "costi sanitari di ") + strings.Join(c.Flows, ", ") + " " + d.window(c.Window)
	case KindCurrentUse:
		what = d.tr("current use of ", "uso corrente di ") + d.event(drugEvent(c)) + d.tr(" (covered by a supply of packs × DDD per pack ÷ daily DDD days)", " (copertura di confezioni × DDD per confezione ÷ DDD giornaliere giorni)")
	case KindAdherence:
		what = strings.ToUpper(c.Method) + " " + d.tr("of", "di") + " " + d.event(drugEvent(c)) + " " + d.window(c.Window)
	case KindTherapyDuration, KindDiscontinuation, KindSwitch:
		what = d.tr("treatment episodes of ", "episodi di trattamento di ") + d.event(drugEvent(c))
	case KindClassify:
		what = fmt.Sprintf(d.tr("%s in classes (cut points %v)", "%s in classi (soglie %v)"), c.Of[0], c.Cuts)
	case KindAggregate:
		what = fmt.Sprintf(d.tr("merged classes of %s", "classi accorpate di %s"), c.Of[0])
	case KindCombine:
		what = fmt.Sprintf("%s(%s)", c.Op, strings.Join(c.Of, ", "))
	case KindSum:
		what = strings.Join(c.Of, " + ")
	}
	s := title + " (" + what + ")"
	if c.Timing == TimingTimeDependent {
		s += d.tr(", time-dependent", ", tempo-dipendente")
	}
	return s
}

func (d *describer) covariates() {
	cs := d.p.Phases.Covariates
	if len(cs) == 0 {
		return
	}
	parts := make([]string, len(cs))
	td := false
	for i := range cs {
		parts[i] = d.covariate(&cs[i])
		td = td || cs[i].Timing == TimingTimeDependent
	}
	s := d.tr("Covariates were: ", "Le covariate erano: ") + strings.Join(parts, "; ") + "."
	if td {
		s += d.tr(" Time-dependent covariates were re-evaluated during follow-up, splitting each person's time into episodes (start, stop].", " Le covariate tempo-dipendenti sono state rivalutate durante il periodo di osservazione, suddividendo il tempo di ciascun assistito in episodi (inizio, fine].")
	}
	d.para(s)
}

func (d *describer) outcomes() {
	var parts []string
	for _, o := range d.p.Phases.Outcomes {
		parts = append(parts, d.outcomeTitle(o.Name)+" ("+d.eventList(o.Events)+")")
	}
	if len(parts) > 0 {
		d.para(d.tr("Outcomes, as their first occurrence during follow-up: ", "Esiti, come prima occorrenza durante il periodo di osservazione: ") + strings.Join(parts, "; ") + ".")
	}
}

func (d *describer) analyses() {
	var parts []string
	for _, a := range d.p.Phases.Analyses {
		var s string
		switch a.Kind {
		case AnalysisAttrition:
			s = d.tr("the number of persons and index events excluded at each population condition and criterion", "il numero di assistiti ed eventi indice esclusi a ogni condizione sulla popolazione e a ogni criterio")
		case AnalysisDescriptive:
			s = d.tr("characteristics at the index date (counts, percentages, means, medians, standardized mean differences)", "caratteristiche alla data indice (frequenze, percentuali, medie, mediane, differenze medie standardizzate)")
		case AnalysisKaplanMeier:
			s = d.tr("Kaplan-Meier cumulative incidence of ", "incidenza cumulativa di Kaplan-Meier di ") + d.outcomeTitle(a.Outcome)
		case AnalysisCox:
			ties := a.Ties
			if ties == "" {
				ties = "efron"
			}
			s = fmt.Sprintf(d.tr("hazard ratios of %s from a Cox proportional hazards model (%s ties) with %s", "hazard ratio di %s da un modello di Cox a rischi proporzionali (ties di %s) con %s"),
				d.outcomeTitle(a.Outcome), strings.ToUpper(ties[:1])+ties[1:], strings.Join(a.Covariates, ", "))
			if len(a.Strata) > 0 {
				s += d.tr(", stratified by ", ", stratificato per ") + strings.Join(a.Strata, ", ")
			}
			if a.CI == "profile" {
				s += d.tr(", with profile-likelihood confidence intervals", ", con intervalli di confidenza di profilo di verosimiglianza")
			}
		case AnalysisLogistic:
			s = fmt.Sprintf(d.tr("odds ratios of %s within %s days from a logistic model with %s", "odds ratio di %s entro %s giorni da un modello logistico con %s"), d.outcomeTitle(a.Outcome), d.num(a.Horizon), strings.Join(a.Covariates, ", "))
		case AnalysisLinear:
			s = fmt.Sprintf(d.tr("a linear model of %s on %s", "un modello lineare di %s su %s"), a.Dependent, strings.Join(a.Covariates, ", "))
		case AnalysisRates:
			per := a.Per
			if per == 0 {
				per = 1000
			}
			s = fmt.Sprintf(d.tr("incidence rates of %s per %g person-years", "tassi di incidenza di %s per %g anni-persona"), d.outcomeTitle(a.Outcome), per)
			if a.By != "" {
				s += d.tr(" by ", " per ") + a.By
			}
			if st := a.Standardize; st != nil {
				std := d.tr("a supplied standard population", "una popolazione standard fornita")
				if st.Standard.RegistryDate != nil {
					std = d.tr("the registry population on ", "la popolazione dell'anagrafe al ") + d.date(st.Standard.RegistryDate)
				}
				s += fmt.Sprintf(d.tr(", crude and directly standardized by %s to %s", ", grezzi e standardizzati con metodo diretto per %s su %s"), strings.Join(st.By, ", "), std)
			}
		}
		if a.StratifyBy != "" {
			s += d.tr(", within each class of ", ", entro ciascuna classe di ") + a.StratifyBy
		}
		parts = append(parts, fmt.Sprintf("%s: %s", a.Name, s))
	}
	if len(parts) > 0 {
		d.para(d.tr("Analyses — ", "Analisi — ") + strings.Join(parts, "; ") + ".")
	}
}

func (d *describer) codes() {
	var parts []string
	for i := range d.p.CodeLists {
		cl := d.lists[d.p.CodeLists[i].Name]
		var cs []string
		cs = append(cs, cl.Include.Codes...)
		for _, x := range cl.Include.Prefixes {
			cs = append(cs, x+"*")
		}
		for _, r := range cl.Include.Ranges {
			cs = append(cs, r.From+"–"+r.To)
		}
		s := fmt.Sprintf("%s (%s): %s", cl.Name, systemName[cl.System], strings.Join(cs, ", "))
		if cl.Exclude != nil {
			ex := append(slicesClone(cl.Exclude.Codes), cl.Exclude.Prefixes...)
			s += d.tr(", excluding ", ", escludendo ") + strings.Join(ex, ", ")
		}
		parts = append(parts, s)
	}
	if len(parts) > 0 {
		d.para(d.tr("Codes: ", "Codici: ") + strings.Join(parts, "; ") + ".")
	}
}

func slicesClone(xs []string) []string { return append([]string(nil), xs...) }

var systemName = map[string]string{SystemICD9Dx: "ICD-9-CM", SystemICD9Proc: "ICD-9-CM proc.", SystemATC: "ATC",
	SystemAIC: "AIC", SystemExemption: "exemption/esenzione", SystemOutpatient: "outpatient/specialistica"}

// lowerFirst lower-cases the first letter of a title unless the title
// starts with an acronym ("ACE inhibitors").
func lowerFirst(s string) string {
	if len(s) < 2 || strings.ToUpper(s[:2]) == s[:2] {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// overlap says that occurrences under way in a window count, not only those
// starting in it (match "overlap").
func (d *describer) overlap(match string) string {
	if match != "overlap" {
		return ""
	}
	return d.tr(" (occurrences under way in it, not only those starting in it)", " (eventi in corso, non solo quelli iniziati nella finestra)")
}

// drugEvent is the event of a drug covariate, "" when it has none (an
// invalid protocol: Describe must not panic on one).
func drugEvent(c *Covariate) string {
	if c.Drug == nil {
		return ""
	}
	return c.Drug.Event
}
