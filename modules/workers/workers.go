// Package workers owns the people trained here (托育从业人员): their records
// keyed by resident ID number, the validation of ID and phone numbers, who
// may see and edit which worker, and the profile pages.
//
// Personal data (ID number, phone, bank account) is stored only encrypted,
// with a blind index for look-ups and a mask for lists (package pii). A
// worker's region, which decides HR and regulator scope, is computed by the
// database on every write: the employer's region, else the college's, else
// the ID number's area code when it is in Hubei.
package workers

import (
	"time"

	"github.com/uptrace/bun"
)

// Worker is one row of the workers table.
type Worker struct {
	bun.BaseModel `bun:"table:workers,alias:w"`

	ID          int64     `bun:"id,pk,autoincrement"`
	Name        string    `bun:"name"`
	IDNumberEnc []byte    `bun:"id_number_enc"`
	IDNumberIdx []byte    `bun:"id_number_idx"`
	IDMask      string    `bun:"id_mask"`
	Sex         Sex       `bun:"sex"`
	BirthDate   time.Time `bun:"birth_date,type:date"`
	IDAreaCode  string    `bun:"id_area_code"`

	PhoneEnc  []byte `bun:"phone_enc"`
	PhoneIdx  []byte `bun:"phone_idx"`
	PhoneMask string `bun:"phone_mask"`

	Education             Education `bun:"education,nullzero"`
	EmployerInstitutionID int64     `bun:"employer_institution_id,nullzero"`
	CollegeOrgID          int64     `bun:"college_org_id,nullzero"`
	Major                 string    `bun:"major"`
	GraduationYear        int       `bun:"graduation_year,nullzero"`
	Occupations           []string  `bun:"occupations,array"`

	Employment          Employment `bun:"employment,nullzero"`
	InsuredMonths       *int       `bun:"insured_months"`
	InsuredMonthsOn     *time.Time `bun:"insured_months_on,type:date"`
	InsuredMonthsSource string     `bun:"insured_months_source"`
	TargetGroups        []string   `bun:"target_groups,array"` // nil: never asked; empty: none of the six

	// Who last set each subsidy fact and when (DESIGN §6.5); empty while
	// the fact was never set.
	EmploymentSetAt    *time.Time `bun:"employment_set_at"`
	EmploymentSetBy    FactSource `bun:"employment_set_by,nullzero"`
	InsuredMonthsSetAt *time.Time `bun:"insured_months_set_at"`
	InsuredMonthsSetBy FactSource `bun:"insured_months_set_by,nullzero"`
	TargetGroupsSetAt  *time.Time `bun:"target_groups_set_at"`
	TargetGroupsSetBy  FactSource `bun:"target_groups_set_by,nullzero"`

	BankAccountEnc  []byte `bun:"bank_account_enc"`
	BankAccountIdx  []byte `bun:"bank_account_idx"`
	BankAccountMask string `bun:"bank_account_mask"`
	BankName        string `bun:"bank_name"`

	Banned            bool      `bun:"banned"`
	RegionCode        string    `bun:"region_code,nullzero"`
	RegisteredByOrgID int64     `bun:"registered_by_org_id,nullzero"`
	CreatedAt         time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt         time.Time `bun:"updated_at,nullzero,default:now()"`

	// Names joined in by List and ByID for display; never written.
	EmployerName string `bun:"employer_name,scanonly"`
	CollegeName  string `bun:"college_name,scanonly"`
	// ListTotal is the capped count List reads with a page; never written.
	ListTotal int `bun:"list_total,scanonly"`
}

// Education is the highest schooling completed.
type Education string

// Education levels, lowest first.
const (
	EduPrimary             Education = "primary"
	EduJuniorMiddle        Education = "junior_middle"
	EduSeniorMiddle        Education = "senior_middle"
	EduSecondaryVocational Education = "secondary_vocational"
	EduJuniorCollege       Education = "junior_college"
	EduBachelor            Education = "bachelor"
	EduMaster              Education = "master"
	EduDoctor              Education = "doctor"
)

// Educations lists the levels in order, for forms.
var Educations = []Education{EduPrimary, EduJuniorMiddle, EduSeniorMiddle, EduSecondaryVocational,
	EduJuniorCollege, EduBachelor, EduMaster, EduDoctor}

var educationLabels = map[Education]string{
	EduPrimary: "小学", EduJuniorMiddle: "初中", EduSeniorMiddle: "高中", EduSecondaryVocational: "中专/中职",
	EduJuniorCollege: "大专", EduBachelor: "本科", EduMaster: "硕士研究生", EduDoctor: "博士研究生",
}

// Label is the Chinese name of the level.
func (e Education) Label() string { return educationLabels[e] }

// Valid reports whether e is a known level ("" is not).
func (e Education) Valid() bool { _, ok := educationLabels[e]; return ok }

// educationAliases maps how rosters and people write schooling to a level.
var educationAliases = map[string]Education{
	"小学": EduPrimary, "初中": EduJuniorMiddle, "高中": EduSeniorMiddle,
	"中专": EduSecondaryVocational, "中职": EduSecondaryVocational, "中专/中职": EduSecondaryVocational,
	"职高": EduSecondaryVocational, "技校": EduSecondaryVocational,
	"大专": EduJuniorCollege, "专科": EduJuniorCollege, "高职": EduJuniorCollege,
	"本科": EduBachelor, "大学本科": EduBachelor, "学士": EduBachelor,
	"硕士": EduMaster, "硕士研究生": EduMaster, "研究生": EduMaster,
	"博士": EduDoctor, "博士研究生": EduDoctor,
}

// ParseEducation reads a level from its code or a common Chinese name
// (大专, 专科, 本科 …). The second result is false when s is unknown.
func ParseEducation(s string) (Education, bool) {
	if e := Education(s); e.Valid() {
		return e, true
	}
	e, ok := educationAliases[s]
	return e, ok
}

// Employment is a worker's employment status for the subsidy rules
// (DESIGN §6.2); "" means unknown.
type Employment string

// Employment statuses (DESIGN §6.2).
const (
	EmpEnterpriseEmployee   Employment = "enterprise_employee"
	EmpUnemploymentBenefit  Employment = "unemployment_benefit"
	EmpRegisteredUnemployed Employment = "registered_unemployed"
	EmpFlexible             Employment = "flexible"
	EmpPublicSector         Employment = "public_sector"
	EmpRetired              Employment = "retired"
	EmpStudent              Employment = "student"
)

// Employments lists the statuses, for forms.
var Employments = []Employment{EmpEnterpriseEmployee, EmpUnemploymentBenefit, EmpRegisteredUnemployed,
	EmpFlexible, EmpPublicSector, EmpRetired, EmpStudent}

var employmentLabels = map[Employment]string{
	EmpEnterpriseEmployee: "企业职工", EmpUnemploymentBenefit: "领取失业保险金人员",
	EmpRegisteredUnemployed: "登记失业人员", EmpFlexible: "灵活就业人员", EmpPublicSector: "机关事业单位人员",
	EmpRetired: "退休人员", EmpStudent: "在校学生",
}

// Label is the Chinese name of the status.
func (e Employment) Label() string {
	if l, ok := employmentLabels[e]; ok {
		return l
	}
	return "未知"
}

// Valid reports whether e is a known status ("" is not).
func (e Employment) Valid() bool { _, ok := employmentLabels[e]; return ok }

// FactSource says who supplied a subsidy fact. HR-supplied facts win over
// what the worker declared (DESIGN §6.5).
type FactSource string

// Fact sources.
const (
	FactByWorker     FactSource = "worker"      // the worker declared it
	FactByHRImport   FactSource = "hr_import"   // an HR import (social-insurance records)
	FactByHRReviewer FactSource = "hr_reviewer" // HR staff entered it
)

// ByHR reports whether HR supplied the fact.
func (f FactSource) ByHR() bool { return f == FactByHRImport || f == FactByHRReviewer }

// Label is the Chinese name of the source, for screens.
func (f FactSource) Label() string {
	switch f {
	case FactByWorker:
		return "本人申报"
	case FactByHRImport:
		return "社保数据导入"
	case FactByHRReviewer:
		return "人社部门核定"
	}
	return "未采集"
}

// Target groups (六类人员, DESIGN §6.2) that open the training and
// appraisal subsidies.
const (
	GroupPovertyMonitoring    = "poverty_monitoring"
	GroupGraduateOfYear       = "graduate_of_year"
	GroupSchoolLeaver         = "school_leaver"
	GroupRuralMigrant         = "rural_migrant"
	GroupRegisteredUnemployed = "registered_unemployed"
	GroupEmploymentDifficulty = "employment_difficulty"
)

// TargetGroups lists the group codes with their Chinese names, in order.
var TargetGroups = []struct{ Code, Label string }{
	{GroupPovertyMonitoring, "脱贫人口和防止返贫监测对象"},
	{GroupGraduateOfYear, "毕业年度高校毕业生"},
	{GroupSchoolLeaver, "未继续升学的初高中毕业生"},
	{GroupRuralMigrant, "农村转移就业劳动者"},
	{GroupRegisteredUnemployed, "城镇登记失业人员"},
	{GroupEmploymentDifficulty, "就业困难人员"},
}

// ValidGroup reports whether code is a target group.
func ValidGroup(code string) bool {
	for _, g := range TargetGroups {
		if g.Code == code {
			return true
		}
	}
	return false
}

// Occupations a worker may hold (DESIGN §1), code → Chinese name.
var Occupations = []struct{ Code, Label string }{
	{"4-10-01-03", "保育师"},
	{"4-10-01-02", "育婴员"},
	{"4-10-01-01", "婴幼儿发展引导员"},
}

// ValidOccupation reports whether code is an occupation a worker may hold.
func ValidOccupation(code string) bool {
	for _, o := range Occupations {
		if o.Code == code {
			return true
		}
	}
	return false
}

// Age is the worker's age in whole years today. Screens that show the
// masked ID number show the age instead of the birth date (the mask hides
// the birth-date digits).
func (w *Worker) Age() int { return AgeAt(w.BirthDate, time.Now()) }
