package cohort

import (
	"regexp"
	"strings"
)

// codeSyntax is, per system, the syntax of an exact code and of a prefix.
var codeSyntax = map[string]struct {
	exact, prefix *regexp.Regexp
	hint          string
}{
	SystemICD9Dx: {
		regexp.MustCompile(`^([0-9]{3,5}|V[0-9]{2,4}|E[0-9]{3,4})$`),
		regexp.MustCompile(`^([0-9]{1,5}|V[0-9]{0,4}|E[0-9]{0,4})$`),
		"an ICD-9-CM diagnosis without dots: 3 to 5 digits, V and 2 to 4 digits, or E and 3 to 4 digits (\"4101\", \"V4581\", \"E8800\")",
	},
	SystemICD9Proc: {
		regexp.MustCompile(`^[0-9]{2,4}$`),
		regexp.MustCompile(`^[0-9]{1,4}$`),
		"an ICD-9-CM procedure without dots: 2 to 4 digits (\"3606\")",
	},
	SystemATC: {
		regexp.MustCompile(`^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$`),
		regexp.MustCompile(`^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$`),
		"an ATC code of level 1 to 5 (1, 3, 4, 5 or 7 characters: \"C\", \"C09\", \"C09A\", \"C09AA\", \"C09AA05\")",
	},
	SystemAIC: {
		regexp.MustCompile(`^([0-9]{6}|[0-9]{9})$`),
		regexp.MustCompile(`^[0-9]{1,9}$`),
		"an AIC product code of 6 or 9 digits",
	},
	SystemExemption: {
		regexp.MustCompile(`^[0-9A-Z]{2,8}$`),
		regexp.MustCompile(`^[0-9A-Z]{1,8}$`),
		"an exemption code of 2 to 8 capital letters or digits (\"013\", \"RF0100\")",
	},
	SystemOutpatient: {
		regexp.MustCompile(`^[0-9A-Z][0-9A-Z.]{0,11}$`),
		regexp.MustCompile(`^[0-9A-Z][0-9A-Z.]{0,11}$`),
		"an outpatient catalogue code of 1 to 12 capital letters, digits or dots",
	},
}

// Systems is every code system, in documentation order.
var Systems = []string{SystemICD9Dx, SystemICD9Proc, SystemATC, SystemAIC, SystemExemption, SystemOutpatient}

// sourceSystems is, per event source, the code systems its code lists may
// have; nil means the source takes no code list.
var sourceSystems = map[string][]string{
	SourceHospitalDiagnosis: {SystemICD9Dx},
	SourceHospitalProcedure: {SystemICD9Proc},
	SourceHospitalAdmission: nil,
	SourceERDiagnosis:       {SystemICD9Dx},
	SourceERAccess:          nil,
	SourceDispensing:        {SystemATC, SystemAIC},
	SourceExemption:         {SystemExemption},
	SourceOutpatient:        {SystemOutpatient},
	SourceDeath:             nil,
	SourceDelivery:          nil,
}

// Sources is every event source, in documentation order.
var Sources = []string{SourceHospitalDiagnosis, SourceHospitalProcedure, SourceHospitalAdmission,
	SourceERDiagnosis, SourceERAccess, SourceDispensing, SourceExemption, SourceOutpatient,
	SourceDeath, SourceDelivery}

// checkCode returns why code is not valid in system, or "".
func checkCode(system, code string, prefix bool) string {
	syn, ok := codeSyntax[system]
	if !ok {
		return ""
	}
	re := syn.exact
	if prefix {
		re = syn.prefix
	}
	if re.MatchString(code) {
		return ""
	}
	if (system == SystemICD9Dx || system == SystemICD9Proc) && strings.Contains(code, ".") {
		return "write ICD-9-CM codes without dots, as the flows do: " + strings.ReplaceAll(code, ".", "") + ", not " + code
	}
	if strings.TrimSpace(code) != code {
		return "remove the spaces around the code"
	}
	if strings.ToUpper(code) != code {
		return "codes are written in capitals: " + strings.ToUpper(code)
	}
	what := "code"
	if prefix {
		what = "prefix"
	}
	return "not a valid " + what + ": expected " + syn.hint
}
