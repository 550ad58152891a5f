package etl

import (
	"fmt"
	"strings"
)

// codeSystemDoc describes each code system for docs/flows.md.
var codeSystemDoc = map[string]string{
	CodeICD9Dx:     "ICD-9-CM diagnosis, Italian 2007 version, 3-5 characters without dot (`25000`, `0389`, `V5861`, `E8499`)",
	CodeICD9Proc:   "ICD-9-CM procedure, Italian 2007 version, without dot (`8952`)",
	CodeExemption:  "national exemption code as listed by the Ministry (`013.250`, `048`, `RF0100`)",
	CodeProduct:    "AIC code of the product table (flow `product`)",
	CodeOutpatient: "regional outpatient code (flow `outpatient_code`)",
	CodeATC:        "ATC code of the ATC table (flow `atc`); not checked while that table is empty",
}

// LayoutMarkdown renders the file layouts as the tables of docs/flows.md;
// TestFlowsDocIsCurrent keeps the document equal to it.
func LayoutMarkdown() string {
	var b strings.Builder
	for _, f := range Flows {
		fmt.Fprintf(&b, "### `%s` — %s\n\n", f.Name, f.Title)
		fmt.Fprintf(&b, "Published to `%s`", f.Table)
		for _, c := range f.Children {
			fmt.Fprintf(&b, " and `%s`", c.Table)
		}
		switch {
		case f.Upsert:
			fmt.Fprintf(&b, "; rows replace those with the same key (%s).", strings.Join(f.Key, ", "))
		case len(f.Key) > 0:
			fmt.Fprintf(&b, "; key (%s), a key already published is refused.", strings.Join(f.Key, ", "))
		default:
			b.WriteString("; rows are appended (no natural key).")
		}
		if f.EventDate != "" {
			fmt.Fprintf(&b, " Event date checked against birth and death: `%s`.", f.EventDate)
		}
		for _, p := range f.Ordered {
			fmt.Fprintf(&b, " `%s` may not be after `%s`.", p[0], p[1])
		}
		b.WriteString("\n\n| column | type | required | codes / rule | description |\n|---|---|---|---|---|\n")
		for _, c := range f.Columns {
			req := ""
			if c.Required {
				req = "yes"
			}
			var rule []string
			if c.Code != "" {
				rule = append(rule, fmt.Sprintf("%s, valid at `%s`", c.Code, c.CodeDate))
			}
			if c.Positive {
				rule = append(rule, "> 0")
			}
			if len(c.Values) > 0 {
				rule = append(rule, strings.Join(c.Values, " or "))
			}
			if c.Type == TypeDate {
				if c.Future {
					rule = append(rule, "≥ 1900-01-01")
				} else {
					rule = append(rule, "1900-01-01 to import date")
				}
			}
			if c.Child {
				rule = append(rule, "stored in the child table")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", c.Name, c.Type, req, strings.Join(rule, "; "), c.Doc)
		}
		b.WriteString("\n")
	}
	b.WriteString("### Code systems\n\n| name | what |\n|---|---|\n")
	for _, k := range []string{CodeICD9Dx, CodeICD9Proc, CodeExemption, CodeProduct, CodeOutpatient, CodeATC} {
		fmt.Fprintf(&b, "| `%s` | %s |\n", k, codeSystemDoc[k])
	}
	return b.String()
}

// AreasMarkdown renders the shipped areas of interest (areas/areas.json)
// as the body of docs/areas.md: per area its criteria with their source,
// positions, code prefixes and reason, and its sources.
func AreasMarkdown() (string, error) {
	areas, err := Areas()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, a := range areas {
		fmt.Fprintf(&b, "## %s (`%s`)\n\n", a.Title, a.Name)
		b.WriteString("| source | positions | code prefixes | why |\n|---|---|---|---|\n")
		for _, c := range a.Criteria {
			pos := c.Positions
			if pos == "" {
				pos = "—"
			}
			codes := "— (every record)"
			if len(c.Prefixes) > 0 {
				codes = "`" + strings.Join(c.Prefixes, "`, `") + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Source, pos, codes, c.Why)
		}
		b.WriteString("\nSources:\n\n")
		for _, s := range a.Sources {
			fmt.Fprintf(&b, "- %s\n", s)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
