package cohort

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// datasetStep writes dataset: the analysis dataset, one row per cohort
// entry: index date and group, follow-up (NULL columns when the entry has
// no follow-up), per outcome "out_<name>_event" and "out_<name>_time", and
// per compiled covariate "cov_<name>", and for a cost or adherence
// covariate "obs_<name>", the observed days of its window. The engine
// reads it for the analyses.
func (c *compiler) datasetStep(covs []string) {
	b := &sqlb{}
	deps := []string{c.stepName("cohort"), c.stepName("followup")}
	cols := []string{"person_id bigint NOT NULL", "entry_no integer NOT NULL", "index_date date NOT NULL",
		"index_group text", "fu_start date", "fu_end date", "end_reason text"}
	sel := []string{"i.person_id", "i.entry_no", "i.index_date", "i.index_group", "f.fu_start", "f.fu_end", "f.end_reason"}
	joins := []string{fmt.Sprintf("LEFT JOIN %s f ON f.person_id = i.person_id AND f.entry_no = i.entry_no", c.studyTable("followup"))}
	for k, o := range c.p.Phases.Outcomes {
		alias := fmt.Sprintf("o%d", k)
		deps = append(deps, c.stepName("outcome_"+o.Name))
		cols = append(cols, column("out_"+o.Name+"_event")+" boolean", column("out_"+o.Name+"_time")+" integer")
		sel = append(sel, alias+".event", alias+".time")
		joins = append(joins, fmt.Sprintf("LEFT JOIN %s %s ON %s.person_id = i.person_id AND %s.entry_no = i.entry_no",
			c.studyTable("outcome_"+o.Name), alias, alias, alias))
	}
	for k, name := range covs {
		alias := fmt.Sprintf("v%d", k)
		deps = append(deps, c.stepName("cov_"+name))
		cols = append(cols, column("cov_"+name)+" "+sqlType(c.types[name]))
		sel = append(sel, alias+".value")
		joins = append(joins, fmt.Sprintf("JOIN %s %s ON %s.person_id = i.person_id AND %s.entry_no = i.entry_no",
			c.covTable(name), alias, alias, alias))
		if hasObservedDays(c.covariate(name)) {
			cols = append(cols, column("obs_"+name)+" integer")
			sel = append(sel, alias+".observed_days")
		}
	}
	names := make([]string, len(cols))
	for k, col := range cols {
		if strings.HasPrefix(col, `"`) {
			names[k] = col[:strings.Index(col[1:], `"`)+2]
		} else {
			names[k] = strings.Fields(col)[0]
		}
	}
	cols = append(cols, "PRIMARY KEY (person_id, entry_no)")
	sql := fmt.Sprintf("(%s)\nSELECT %s\nFROM %s i\n%s", strings.Join(names, ", "), strings.Join(sel, ", "),
		c.studyTable("cohort"), strings.Join(joins, "\n"))
	c.add(StepDataset, "dataset", strings.Join(cols, ",\n"), b, sql, deps...)
}

// covariate is the protocol's covariate of a name (validated to exist).
func (c *compiler) covariate(name string) *Covariate {
	for i := range c.p.Phases.Covariates {
		if c.p.Phases.Covariates[i].Name == name {
			return &c.p.Phases.Covariates[i]
		}
	}
	panic("cohort: unvalidated covariate " + name)
}

// column is the quoted column name for a name, shortened with a hash
// beyond PostgreSQL's 63 bytes.
func column(name string) string {
	if len(name) > 63 {
		h := sha256.Sum256([]byte(name))
		name = name[:54] + "_" + hex.EncodeToString(h[:4])
	}
	return ident(name)
}
