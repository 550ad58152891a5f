package synth

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The person-level flows, in the order of PersonFlows.
const (
	flowPerson = iota
	flowEnrolment
	flowSDO
	flowPharmacy
	flowDirect
	flowExemption
	flowER
	flowOutpatient
	flowCeDAP
	numFlows
)

// PersonFlows names the person-level flows the generator writes, one file
// <name>.csv each, in the layouts of docs/flows.md.
var PersonFlows = [numFlows]string{"person", "enrolment", "sdo", "pharmacy", "direct_distribution", "exemption", "er", "outpatient", "cedap"}

// DictionaryFlows names the dictionary flows the generator writes.
var DictionaryFlows = []string{"atc", "product", "outpatient_code"}

// headers are the CSV header lines, column names as in engine/etl/flows.go.
var headers = func() [numFlows]string {
	var h [numFlows]string
	h[flowPerson] = "person_id,sex,birth_date,death_date,birth_municipality"
	h[flowEnrolment] = "person_id,start_date,end_date,asl,municipality,gp_id,end_reason"
	sdo := []string{"person_id", "discharge_id", "hospital", "admission_date", "discharge_date", "regime", "admission_type",
		"discharge_mode", "ward", "drg", "tariff", "diag_princ"}
	for i := 1; i <= 5; i++ {
		sdo = append(sdo, fmt.Sprintf("diag_sec_%d", i))
	}
	sdo = append(sdo, "proc_princ", "proc_princ_date")
	for i := 1; i <= 5; i++ {
		sdo = append(sdo, fmt.Sprintf("proc_sec_%d", i), fmt.Sprintf("proc_sec_%d_date", i))
	}
	h[flowSDO] = strings.Join(sdo, ",")
	h[flowPharmacy] = "person_id,dispensing_date,aic,atc,packs,prescriber_id,cost,copay"
	h[flowDirect] = "person_id,dispensing_date,aic,atc,packs,units,channel,prescriber_id,cost,copay"
	h[flowExemption] = "person_id,code,start_date,end_date"
	h[flowER] = "person_id,access_id,arrival_date,arrival_time,triage,outcome,admitted,diag_princ,diag_sec_1,diag_sec_2"
	h[flowOutpatient] = "person_id,service_date,code,quantity,tariff"
	h[flowCeDAP] = "person_id,cedap_id,delivery_date,gestational_weeks,delivery_mode,plurality,newborn_person_id,newborn_sex,birth_weight_g,apgar_5"
	return h
}()

// Header returns the CSV header line of a person-level flow.
func Header(flow string) string {
	for i, f := range PersonFlows {
		if f == flow {
			return headers[i]
		}
	}
	return ""
}

// buffers holds one chunk's encoded rows per flow.
type buffers struct {
	b    [numFlows][]byte
	rows [numFlows]int64
	asl  []string // ASL codes by index
}

func appendOptDate(b []byte, day int) []byte {
	if day == noDay {
		return b
	}
	return appendDate(b, day)
}

func appendFloat(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// encode appends a person's rows (then its newborns') to the buffers.
func (bf *buffers) encode(p *Person) {
	id := func(f int) []byte {
		bf.rows[f]++
		b := strconv.AppendInt(bf.b[f], p.ID, 10)
		return append(b, ',')
	}
	b := id(flowPerson)
	b = append(b, p.Sex, ',')
	b = appendDate(b, p.Birth)
	b = append(b, ',')
	b = appendOptDate(b, p.Death)
	b = append(b, ',')
	b = append(b, p.BirthMunicipality...)
	bf.b[flowPerson] = append(b, '\n')

	for _, s := range p.Spells {
		b := id(flowEnrolment)
		b = appendDate(b, s.Start)
		b = append(b, ',')
		b = appendOptDate(b, s.End)
		b = append(b, ',')
		b = append(b, bf.asl[s.ASL]...)
		b = append(b, ',')
		b = append(b, s.Municipality...)
		b = append(b, ',')
		b = append(b, s.GP...)
		b = append(b, ',')
		b = append(b, s.EndReason...)
		bf.b[flowEnrolment] = append(b, '\n')
	}
	for _, d := range p.Discharges {
		b := id(flowSDO)
		b = append(b, d.ID...)
		b = append(b, ',')
		b = append(b, d.Hospital...)
		b = append(b, ',')
		b = appendDate(b, d.Admission)
		b = append(b, ',')
		b = appendDate(b, d.Discharge)
		for _, v := range []string{d.Regime, d.AdmissionType, d.Mode, d.Ward, d.DRG} {
			b = append(b, ',')
			b = append(b, v...)
		}
		b = append(b, ',')
		b = appendMoney(b, d.Tariff)
		for i := 0; i < 6; i++ {
			b = append(b, ',')
			if i < len(d.Dx) {
				b = append(b, d.Dx[i]...)
			}
		}
		for i := 0; i < 6; i++ {
			b = append(b, ',')
			if i < len(d.Proc) {
				b = append(b, d.Proc[i]...)
			}
			b = append(b, ',')
			if i < len(d.Proc) {
				b = appendDate(b, d.ProcDate[i])
			}
		}
		bf.b[flowSDO] = append(b, '\n')
	}
	for _, d := range p.Dispensing {
		pr := &products[d.Product]
		f := flowPharmacy
		if pr.direct {
			f = flowDirect
		}
		b := id(f)
		b = appendDate(b, d.Day)
		b = append(b, ',')
		b = append(b, pr.aic...)
		b = append(b, ',')
		b = append(b, pr.atc...)
		b = append(b, ',')
		b = appendFloat(b, d.Packs)
		if pr.direct {
			b = append(b, ',')
			b = appendFloat(b, d.Packs*pr.units)
			b = append(b, ',')
			b = append(b, d.Channel...)
		}
		b = append(b, ',')
		b = append(b, d.Prescriber...)
		b = append(b, ',')
		b = appendMoney(b, d.Cost)
		b = append(b, ',')
		b = appendMoney(b, d.Copay)
		bf.b[f] = append(b, '\n')
	}
	for _, e := range p.Exemptions {
		b := id(flowExemption)
		b = append(b, e.Code...)
		b = append(b, ',')
		b = appendDate(b, e.Start)
		b = append(b, ',')
		b = appendOptDate(b, e.End)
		bf.b[flowExemption] = append(b, '\n')
	}
	for _, a := range p.ER {
		b := id(flowER)
		b = append(b, a.ID...)
		b = append(b, ',')
		b = appendDate(b, a.Day)
		b = append(b, ',', byte('0'+a.Minute/600), byte('0'+a.Minute/60%10), ':', byte('0'+a.Minute%60/10), byte('0'+a.Minute%10), ',')
		b = append(b, a.Triage...)
		b = append(b, ',')
		b = append(b, a.Outcome...)
		b = append(b, ',')
		if a.Admitted {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		for i := 0; i < 3; i++ {
			b = append(b, ',')
			if i < len(a.Dx) {
				b = append(b, a.Dx[i]...)
			}
		}
		bf.b[flowER] = append(b, '\n')
	}
	for _, o := range p.Outpatient {
		b := id(flowOutpatient)
		b = appendDate(b, o.Day)
		b = append(b, ',')
		b = append(b, o.Code...)
		b = append(b, ',')
		b = appendFloat(b, o.Qty)
		b = append(b, ',')
		b = appendMoney(b, o.Tariff*o.Qty)
		bf.b[flowOutpatient] = append(b, '\n')
	}
	for _, c := range p.CeDAP {
		b := id(flowCeDAP)
		b = append(b, c.ID...)
		b = append(b, ',')
		b = appendDate(b, c.Day)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.Weeks), 10)
		b = append(b, ',')
		b = append(b, c.Mode...)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.Plurality), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, c.Newborn, 10)
		b = append(b, ',', c.Sex, ',')
		b = strconv.AppendInt(b, int64(c.WeightG), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.Apgar5), 10)
		bf.b[flowCeDAP] = append(b, '\n')
	}
	for _, n := range p.Newborns {
		bf.encode(n)
	}
}

// csvField quotes a field when it holds a comma, a quote or a newline.
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// dictionaries returns the dictionary files' contents.
func (r *region) dictionaries() map[string][]byte {
	out := map[string][]byte{}
	var b []byte
	b = append(b, "code,name,ddd,ddd_unit\n"...)
	for _, a := range atcTable {
		b = append(b, a.code...)
		b = append(b, ',')
		b = append(b, csvField(a.name)...)
		b = append(b, ',')
		if a.ddd > 0 {
			b = appendFloat(b, a.ddd)
		}
		b = append(b, ',')
		b = append(b, a.unit...)
		b = append(b, '\n')
	}
	out["atc"] = b
	b = nil
	b = append(b, "aic,atc,name,units_per_pack,ddd_per_pack,valid_from,valid_to\n"...)
	for i, p := range products {
		from, to := r.productValidity(i)
		b = append(b, p.aic...)
		b = append(b, ',')
		b = append(b, p.atc...)
		b = append(b, ',')
		b = append(b, csvField(p.name)...)
		b = append(b, ',')
		b = appendFloat(b, p.units)
		b = append(b, ',')
		b = appendFloat(b, p.dddPerPack)
		b = append(b, ',')
		b = appendDate(b, from)
		b = append(b, ',')
		b = appendOptDate(b, to)
		b = append(b, '\n')
	}
	out["product"] = b
	b = nil
	b = append(b, "code,description,tariff,valid_from,valid_to\n"...)
	for _, c := range outpatientCatalogue {
		from, to := r.validity(c.from, c.to)
		b = append(b, c.code...)
		b = append(b, ',')
		b = append(b, csvField(c.desc)...)
		b = append(b, ',')
		b = appendMoney(b, c.tariff)
		b = append(b, ',')
		b = appendDate(b, from)
		b = append(b, ',')
		b = appendOptDate(b, to)
		b = append(b, '\n')
	}
	out["outpatient_code"] = b
	return out
}

// Files lists a written region's files in import order, dictionaries
// first: <flow>.csv or <flow>.parquet, whichever the directory holds.
func Files(dir string) ([]string, error) {
	var out []string
	for _, name := range append(append([]string{}, DictionaryFlows...), PersonFlows[:]...) {
		var found []string
		for _, f := range []Format{CSV, Parquet} {
			p := filepath.Join(dir, name+"."+string(f))
			if _, err := os.Stat(p); err == nil {
				found = append(found, p)
			}
		}
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("synth: no %s.csv or %s.parquet in %s", name, name, dir)
		case 2:
			return nil, fmt.Errorf("synth: both %s.csv and %s.parquet in %s: keep one format per directory", name, name, dir)
		}
		out = append(out, found[0])
	}
	return out, nil
}
