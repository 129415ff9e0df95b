package catalog

// Assessment modes of a plan (DESIGN §7): which parts a class of the plan
// ends in.
const (
	AssessmentNone            = "none"             // the certificate follows completion
	AssessmentTheory          = "theory"           // 理论 only
	AssessmentTheoryPractical = "theory_practical" // 理论 and 实操
)

// ValidAssessment reports whether mode is one of the three modes.
func ValidAssessment(mode string) bool {
	return mode == AssessmentNone || mode == AssessmentTheory || mode == AssessmentTheoryPractical
}

// AssessmentLabel is the Chinese name of an assessment mode.
func AssessmentLabel(mode string) string {
	switch mode {
	case AssessmentNone:
		return "不考核(完成学时即发证)"
	case AssessmentTheory:
		return "理论考核"
	case AssessmentTheoryPractical:
		return "理论+实操考核"
	}
	return mode
}

// DefaultAssessment is the mode DESIGN §7 gives a plan code: in-service
// training of 保育师 ends without an assessment, the manager's course in
// theory only, every other plan in theory and practical.
func DefaultAssessment(code string) string {
	switch code {
	case "BYS-ZG":
		return AssessmentNone
	case "FZR-GW":
		return AssessmentTheory
	}
	return AssessmentTheoryPractical
}
