package synth

// Static tables of the synthetic region: national discharge shape, the
// diagnoses and procedures used, the synthetic product table, the ATC
// structure and the outpatient catalogue. Every ICD-9-CM code below is a
// leaf of the Italian 2007 version (engine/etl/dictionaries), so it is valid
// at any date.

// sdoNational are hospital discharges in Italy in 2022 by sex and age class
// (all regimes), from Ministero della Salute open data "Dimissioni
// ospedaliere per fasce d'età e sesso" (dati.salute.gov.it, Italian Open
// Data License v2.0, attribution: Ministero della Salute), as aggregated in
// /work/shared/data/sdo_discharges_2022_italy_by_sex_age.csv. popNational
// are the matching resident populations in thousands (ISTAT, 1 January
// 2022, rounded by us: only the shape of the rates is used). Index 0 women,
// 1 men; classes 0-5, 6-12, 13-18, 19-24, 25-34, 35-44, 45-54, 55-64,
// 65-74, 75+.
var (
	sdoClassFrom = [10]float64{0, 6, 13, 19, 25, 35, 45, 55, 65, 75}
	sdoNational  = [2][10]float64{
		{294235, 73920, 84521, 117605, 438284, 436173, 407389, 483912, 579054, 1052473},
		{348672, 103792, 103356, 87344, 141395, 185466, 363064, 582783, 752580, 1004493},
	}
	popNational = [2][10]float64{
		{1244, 1650, 1655, 1700, 3140, 3800, 4800, 4420, 3620, 4250},
		{1316, 1750, 1765, 1820, 3210, 3800, 4700, 4180, 3280, 2950},
	}
	// Discharges that the generator makes explicitly (births: newborns and
	// deliveries, about 400,000 a year), subtracted from the national counts
	// before they become rates.
	sdoBirths = [2][10]float64{
		{195000, 0, 0, 24000, 200000, 176000, 0, 0, 0, 0},
		{205000, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	}
)

// dischargeRate returns the national generic discharge rate per
// person-year at an age, births excluded.
func dischargeRate(sex int, age float64) float64 {
	c := 0
	for i := range sdoClassFrom {
		if age >= sdoClassFrom[i] {
			c = i
		}
	}
	return (sdoNational[sex][c] - sdoBirths[sex][c]) / (popNational[sex][c] * 1000)
}

// ageBand6 maps an age to the bands of Params.ER and Params.Outpatient:
// 0-4, 5-14, 15-44, 45-64, 65-74, 75+.
func ageBand6(age float64) int {
	switch {
	case age < 5:
		return 0
	case age < 15:
		return 1
	case age < 45:
		return 2
	case age < 65:
		return 3
	case age < 75:
		return 4
	}
	return 5
}

// reason is a kind of hospital admission.
type reason struct {
	dx    string
	proc  string
	drg   string
	ward  string
	los   float64    // mean length of stay of an ordinary admission
	dh    float64    // probability of a day-hospital admission
	tarif float64    // tariff in euro
	w     [3]float64 // weights under 15, 15-64, 65+
}

// genericReasons are the principal diagnoses of admissions not driven by a
// modelled condition.
var genericReasons = []reason{
	{"486", "", "089", "26", 9, 0, 3300, [3]float64{0.10, 0.03, 0.10}},
	{"46619", "", "098", "39", 4, 0, 1900, [3]float64{0.12, 0, 0}},
	{"5589", "", "184", "39", 3, 0.1, 1500, [3]float64{0.12, 0.03, 0.02}},
	{"5409", "4701", "167", "09", 3, 0, 3400, [3]float64{0.08, 0.04, 0.005}},
	{"4659", "", "070", "39", 2, 0.1, 1200, [3]float64{0.10, 0.005, 0}},
	{"57410", "5123", "494", "09", 3, 0, 2900, [3]float64{0, 0.06, 0.04}},
	{"55090", "5303", "162", "09", 1, 0.6, 1600, [3]float64{0.03, 0.05, 0.03}},
	{"3669", "1341", "039", "34", 1, 0.9, 1300, [3]float64{0, 0.005, 0.06}},
	{"71596", "8154", "544", "36", 8, 0, 8500, [3]float64{0, 0.02, 0.06}},
	{"41401", "3606", "558", "08", 4, 0, 6500, [3]float64{0, 0.02, 0.05}},
	{"43491", "", "014", "32", 10, 0, 4800, [3]float64{0, 0.01, 0.05}},
	{"42731", "", "138", "26", 5, 0, 2500, [3]float64{0, 0.01, 0.04}},
	{"5990", "", "320", "26", 6, 0, 2200, [3]float64{0.02, 0.01, 0.04}},
	{"78650", "", "143", "08", 2, 0, 1400, [3]float64{0, 0.03, 0.03}},
	{"7802", "", "141", "26", 3, 0, 1700, [3]float64{0.01, 0.02, 0.03}},
	{"7242", "", "243", "36", 4, 0.2, 1900, [3]float64{0, 0.04, 0.02}},
	{"29620", "", "426", "40", 12, 0, 3000, [3]float64{0.005, 0.04, 0.01}},
	{"8054", "", "243", "36", 6, 0, 2400, [3]float64{0.005, 0.01, 0.02}},
	{"2800", "", "395", "26", 4, 0.3, 1800, [3]float64{0, 0.01, 0.02}},
	{"5770", "", "204", "26", 8, 0, 3500, [3]float64{0, 0.01, 0.01}},
	{"51881", "", "087", "26", 10, 0, 4200, [3]float64{0, 0.005, 0.04}},
	{"0389", "", "576", "26", 14, 0, 5800, [3]float64{0.005, 0.005, 0.03}},
	{"78900", "", "183", "09", 2, 0.2, 1200, [3]float64{0.03, 0.03, 0.02}},
	{"9599", "", "444", "36", 2, 0, 1500, [3]float64{0.05, 0.02, 0.01}},
}

// Modelled admissions.
var (
	amiCodes    = []string{"41001", "41011", "41021", "41041", "41071", "41091"}
	amiReason   = reason{"", "3606", "558", "50", 7, 0, 6000, [3]float64{}}
	giCodes     = []string{"5780", "5781", "5789"}
	giReason    = reason{"", "4513", "174", "26", 6, 0, 3000, [3]float64{}}
	hipCodes    = []string{"82000", "82009", "82020", "82021", "82022"}
	hipProcs    = []string{"8151", "8152", "7915"}
	hipReason   = reason{"", "", "210", "36", 11, 0, 8000, [3]float64{}}
	hfReason    = reason{"4280", "", "127", "26", 9, 0, 3100, [3]float64{}}
	copdReason  = reason{"49121", "", "088", "26", 9, 0, 2800, [3]float64{}}
	chemoReason = reason{"V5811", "9925", "410", "64", 0, 1, 350, [3]float64{}}
)

// Chronic-condition codes used as secondary diagnoses.
const (
	dxDiabetes     = "25000"
	dxHypertension = "4019"
	dxHeartFailure = "4280"
	dxCOPD         = "496"
)

// cancerSite is a cancer's ICD-9-CM code and its surgery.
type cancerSite struct {
	dx, proc, drg string
	w             [2]float64 // weight for women, men
}

var cancerSites = []cancerSite{
	{"1749", "8521", "258", [2]float64{0.40, 0}},
	{"185", "605", "334", [2]float64{0, 0.35}},
	{"1539", "4573", "148", [2]float64{0.25, 0.25}},
	{"1629", "3229", "075", [2]float64{0.15, 0.25}},
	{"1889", "5749", "308", [2]float64{0.05, 0.15}},
	{"193", "0652", "290", [2]float64{0.15, 0}},
}

// erReasons are the diagnoses of emergency-room accesses not followed by
// an admission, with weights under 15, 15-64, 65+.
var erReasons = []struct {
	dx string
	w  [3]float64
}{
	{"7840", [3]float64{0.05, 0.08, 0.05}},
	{"78650", [3]float64{0.01, 0.08, 0.10}},
	{"8472", [3]float64{0.01, 0.08, 0.04}},
	{"9599", [3]float64{0.20, 0.15, 0.10}},
	{"4659", [3]float64{0.20, 0.05, 0.03}},
	{"78900", [3]float64{0.10, 0.12, 0.10}},
	{"5990", [3]float64{0.02, 0.05, 0.08}},
	{"92300", [3]float64{0.08, 0.08, 0.08}},
	{"84500", [3]float64{0.08, 0.10, 0.03}},
	{"7806", [3]float64{0.15, 0.04, 0.05}},
	{"8820", [3]float64{0.05, 0.08, 0.03}},
	{"78791", [3]float64{0.05, 0.04, 0.04}},
	{"7802", [3]float64{0.00, 0.03, 0.08}},
	{"71946", [3]float64{0.00, 0.02, 0.06}},
}

// unknownCodes are diagnosis codes that are not ICD-9-CM (truth T4).
var unknownCodes = []string{"2500", "99999", "0000", "V999"}

// atcEntry is a row of the synthetic ATC table.
type atcEntry struct {
	code, name string
	ddd        float64
	unit       string
}

// atcTable is the ATC structure of the drugs the region uses. The DDDs are
// the generator's own values (close to the published ones, not a copy of
// the WHO index).
var atcTable = []atcEntry{
	{"A", "alimentary tract and metabolism", 0, ""},
	{"A02", "drugs for acid related disorders", 0, ""},
	{"A02B", "drugs for peptic ulcer and GORD", 0, ""},
	{"A02BC", "proton pump inhibitors", 0, ""},
	{"A02BC01", "omeprazole", 20, "mg"},
	{"A10", "drugs used in diabetes", 0, ""},
	{"A10A", "insulins and analogues", 0, ""},
	{"A10AE", "insulins, long-acting", 0, ""},
	{"A10AE04", "insulin glargine", 40, "U"},
	{"A10B", "blood glucose lowering drugs, excl. insulins", 0, ""},
	{"A10BA", "biguanides", 0, ""},
	{"A10BA02", "metformin", 2, "g"},
	{"B", "blood and blood forming organs", 0, ""},
	{"B01", "antithrombotic agents", 0, ""},
	{"B01A", "antithrombotic agents", 0, ""},
	{"B01AB", "heparin group", 0, ""},
	{"B01AB05", "enoxaparin", 2, "TU"},
	{"C", "cardiovascular system", 0, ""},
	{"C03", "diuretics", 0, ""},
	{"C03C", "high-ceiling diuretics", 0, ""},
	{"C03CA", "sulfonamides, plain", 0, ""},
	{"C03CA01", "furosemide", 40, "mg"},
	{"C07", "beta blocking agents", 0, ""},
	{"C07A", "beta blocking agents", 0, ""},
	{"C07AB", "beta blocking agents, selective", 0, ""},
	{"C07AB07", "bisoprolol", 10, "mg"},
	{"C08", "calcium channel blockers", 0, ""},
	{"C08C", "selective calcium channel blockers with mainly vascular effects", 0, ""},
	{"C08CA", "dihydropyridine derivatives", 0, ""},
	{"C08CA01", "amlodipine", 5, "mg"},
	{"C09", "agents acting on the renin-angiotensin system", 0, ""},
	{"C09A", "ACE inhibitors, plain", 0, ""},
	{"C09AA", "ACE inhibitors, plain", 0, ""},
	{"C09AA02", "enalapril", 10, "mg"},
	{"C09AA05", "ramipril", 2.5, "mg"},
	{"C09C", "angiotensin II receptor blockers (ARBs), plain", 0, ""},
	{"C09CA", "angiotensin II receptor blockers (ARBs), plain", 0, ""},
	{"C09CA01", "losartan", 50, "mg"},
	{"C09CA03", "valsartan", 80, "mg"},
	{"C10", "lipid modifying agents", 0, ""},
	{"C10A", "lipid modifying agents, plain", 0, ""},
	{"C10AA", "HMG CoA reductase inhibitors", 0, ""},
	{"C10AA05", "atorvastatin", 20, "mg"},
	{"J", "antiinfectives for systemic use", 0, ""},
	{"J01", "antibacterials for systemic use", 0, ""},
	{"J01C", "beta-lactam antibacterials, penicillins", 0, ""},
	{"J01CR", "combinations of penicillins", 0, ""},
	{"J01CR02", "amoxicillin and beta-lactamase inhibitor", 1.5, "g"},
	{"J01F", "macrolides, lincosamides and streptogramins", 0, ""},
	{"J01FA", "macrolides", 0, ""},
	{"J01FA10", "azithromycin", 0.3, "g"},
	{"L", "antineoplastic and immunomodulating agents", 0, ""},
	{"L02", "endocrine therapy", 0, ""},
	{"L02B", "hormone antagonists and related agents", 0, ""},
	{"L02BB", "anti-androgens", 0, ""},
	{"L02BB03", "bicalutamide", 50, "mg"},
	{"L02BG", "aromatase inhibitors", 0, ""},
	{"L02BG04", "letrozole", 2.5, "mg"},
	{"M", "musculo-skeletal system", 0, ""},
	{"M01", "antiinflammatory and antirheumatic products", 0, ""},
	{"M01A", "antiinflammatory and antirheumatic products, non-steroids", 0, ""},
	{"M01AB", "acetic acid derivatives and related substances", 0, ""},
	{"M01AB05", "diclofenac", 0.1, "g"},
	{"M01AE", "propionic acid derivatives", 0, ""},
	{"M01AE01", "ibuprofen", 1.2, "g"},
	{"M01AH", "coxibs", 0, ""},
	{"M01AH01", "celecoxib", 0.2, "g"},
	{"M01AX", "other antiinflammatory and antirheumatic agents, non-steroids", 0, ""},
	{"M01AX17", "nimesulide", 0.2, "g"},
	{"R", "respiratory system", 0, ""},
	{"R03", "drugs for obstructive airway diseases", 0, ""},
	{"R03B", "other drugs for obstructive airway diseases, inhalants", 0, ""},
	{"R03BB", "anticholinergics", 0, ""},
	{"R03BB04", "tiotropium bromide", 18, "mcg"},
}

// product is a row of the synthetic product table (AIC codes beginning
// with 9, which no real product has).
type product struct {
	aic, atc, name    string
	units, dddPerPack float64
	price             float64
	direct            bool // dispensed through direct distribution
	// validity: from and to are offsets in years from the period's start
	// (to < 0: open); the region's generic switch happens at mid-period.
	from, to int
}

// Product validity markers, in years from the start of the period.
const (
	always = -100
	open   = -1
	mid    = -2 // replaced by the mid-period switch (see productValidity)
)

var products = []product{
	{"900000012", "A02BC01", "SYNTHETIC OMEPRAZOLO 20MG 14 CPS", 14, 14, 4.8, false, always, open},
	{"900000024", "A10BA02", "SYNTHETIC METFORMINA 1000MG 60 CPR", 60, 30, 4.2, false, always, open},
	{"900000036", "A10AE04", "SYNTHETIC INSULINA GLARGINE 5 PENNE 300U", 5, 37.5, 62.0, true, always, open},
	{"900000048", "B01AB05", "SYNTHETIC ENOXAPARINA 4000UI 10 SIR", 10, 20, 28.0, true, always, open},
	{"900000051", "C03CA01", "SYNTHETIC FUROSEMIDE 25MG 30 CPR", 30, 18.75, 2.4, false, always, open},
	{"900000063", "C07AB07", "SYNTHETIC BISOPROLOLO 5MG 28 CPR", 28, 14, 4.6, false, always, open},
	{"900000075", "C08CA01", "SYNTHETIC AMLODIPINA 5MG 28 CPR", 28, 28, 3.9, false, always, open},
	{"900000087", "C09AA02", "SYNTHETIC ENALAPRIL 20MG 14 CPR", 14, 28, 3.5, false, always, open},
	{"900000099", "C09AA05", "SYNTHETIC RAMIPRIL BRAND 5MG 28 CPR", 28, 56, 6.1, false, always, mid},
	{"900000101", "C09AA05", "SYNTHETIC RAMIPRIL GENERICO 5MG 28 CPR", 28, 56, 4.9, false, mid, open},
	{"900000113", "C09CA01", "SYNTHETIC LOSARTAN 50MG 28 CPR", 28, 28, 6.8, false, always, open},
	{"900000125", "C09CA03", "SYNTHETIC VALSARTAN 80MG 28 CPR", 28, 28, 7.4, false, always, open},
	{"900000137", "C10AA05", "SYNTHETIC ATORVASTATINA 20MG 30 CPR", 30, 30, 6.9, false, always, open},
	{"900000149", "J01CR02", "SYNTHETIC AMOXICILLINA/AC CLAV 875MG 12 CPR", 12, 7, 6.3, false, always, open},
	{"900000152", "J01FA10", "SYNTHETIC AZITROMICINA 500MG 3 CPR", 3, 5, 7.2, false, always, open},
	{"900000164", "L02BB03", "SYNTHETIC BICALUTAMIDE 50MG 28 CPR", 28, 28, 38.0, false, always, open},
	{"900000176", "L02BG04", "SYNTHETIC LETROZOLO 2,5MG 30 CPR", 30, 30, 21.0, false, always, open},
	{"900000188", "M01AB05", "SYNTHETIC DICLOFENAC 75MG 20 CPR", 20, 15, 4.1, false, always, open},
	{"900000190", "M01AE01", "SYNTHETIC IBUPROFENE 600MG 30 CPR", 30, 15, 4.5, false, always, open},
	{"900000202", "M01AH01", "SYNTHETIC CELECOXIB 200MG 20 CPS", 20, 20, 9.8, false, always, open},
	{"900000214", "M01AX17", "SYNTHETIC NIMESULIDE 100MG 30 CPR", 30, 15, 4.3, false, always, open},
	{"900000226", "R03BB04", "SYNTHETIC TIOTROPIO 18MCG 30 CPS", 30, 30, 48.0, false, always, open},
}

// productsByATC indexes products by ATC code.
var productsByATC = func() map[string][]int {
	m := map[string][]int{}
	for i, p := range products {
		m[p.atc] = append(m[p.atc], i)
	}
	return m
}()

// outpatientCode is a row of the synthetic regional outpatient catalogue,
// modelled on the national nomenclature. A code with from/to = mid changes
// at the mid-period switch.
type outpatientCode struct {
	code, desc string
	tariff     float64
	from, to   int
}

var outpatientCatalogue = []outpatientCode{
	{"89.7", "PRIMA VISITA SPECIALISTICA", 20.66, always, mid},
	{"89.7A", "PRIMA VISITA SPECIALISTICA (NUOVA CODIFICA)", 22.50, mid, open},
	{"89.01", "VISITA DI CONTROLLO", 12.91, always, open},
	{"91.49.2", "PRELIEVO DI SANGUE VENOSO", 2.58, always, open},
	{"90.62.2", "EMOCROMO", 3.17, always, open},
	{"90.27.1", "GLUCOSIO", 1.17, always, open},
	{"90.28.1", "HB GLICATA", 9.60, always, open},
	{"90.14.3", "COLESTEROLO TOTALE", 1.13, always, open},
	{"90.16.3", "CREATININA", 1.13, always, open},
	{"89.52", "ELETTROCARDIOGRAMMA", 11.62, always, open},
	{"88.72.3", "ECOCOLORDOPPLERGRAFIA CARDIACA", 72.30, always, open},
	{"89.37.1", "SPIROMETRIA SEMPLICE", 21.69, always, open},
	{"87.44.1", "RADIOGRAFIA DEL TORACE", 15.49, always, open},
	{"95.02", "ESAME COMPLESSIVO DELL'OCCHIO", 20.66, always, open},
}

// outpatientIndex finds a catalogue code's row.
var outpatientIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range outpatientCatalogue {
		m[c.code] = i
	}
	return m
}()
