package workers

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"tuoyu/modules/apperr"
)

// Sex is a worker's sex as the resident ID number states it.
type Sex string

// Sexes, derived from the 17th digit of the ID number (odd male, even female).
const (
	SexMale   Sex = "male"
	SexFemale Sex = "female"
)

// Label is the Chinese word for the sex, as rosters and pages write it.
func (s Sex) Label() string {
	switch s {
	case SexMale:
		return "男"
	case SexFemale:
		return "女"
	}
	return ""
}

// Age limits at registration (issue 3: age 16–70).
const (
	MinAge = 16
	MaxAge = 70
)

// ResidentID is a valid 18-character resident ID number (GB 11643) and what
// it states.
type ResidentID struct {
	Number string    // normalised: 17 digits and a check character 0-9 or X
	Area   string    // the first six digits: the GB/T 2260 area of first registration
	Birth  time.Time // birth date, midnight UTC
	Sex    Sex
}

// Codes of ID number problems. They are stable: rosters, the API and tests
// rely on them.
const (
	CodeIDRequired        = "id_required"
	CodeIDLength          = "id_length"
	CodeIDFormat          = "id_format"
	CodeIDChecksum        = "id_checksum"
	CodeIDBirthdate       = "id_birthdate"
	CodeIDAge             = "id_age"
	CodeIDProvince        = "id_province"
	CodeIDExcelScientific = "id_excel_scientific"
	CodeIDExcelTruncated  = "id_excel_truncated"
)

// FieldIDNumber is the field name ID errors carry.
const FieldIDNumber = "id_number"

// provinces holds the two-digit province codes an ID number may start with:
// the 31 mainland provinces, plus 81 (Hong Kong), 82 (Macao) and 83 (Taiwan)
// because the residence permits of those residents (港澳台居民居住证, issued
// since 2018 with prefixes 810000/820000/830000) use the same 18-character
// format and check character, and their holders may work in childcare in
// Hubei. 71, the GB/T 2260 code for Taiwan, is left out: no resident ID or
// permit is issued with it, so a 71 prefix is a typing error.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"81": true, "82": true, "83": true,
}

// checkWeights are the MOD 11-2 weights 2^(17-i) mod 11 of GB 11643.
var checkWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the weighted sum mod 11 to the check character.
const checkChars = "10X98765432"

// CheckChar returns the GB 11643 check character of the first 17 digits of
// s. s must start with 17 ASCII digits.
func CheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * checkWeights[i]
	}
	return checkChars[sum%11]
}

// excelScientific matches what Excel shows for an 18-digit number stored as
// a number: 4.20106E+17, 4.20106199001011E+17.
var excelScientific = regexp.MustCompile(`^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$`)

// NormalizeID trims spaces (also the full-width ones Chinese input methods
// type), turns full-width digits and Ｘ into ASCII and upper-cases x.
func NormalizeID(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == 'ｘ' || r == 'Ｘ' || r == 'x':
			return 'X'
		case r == '\u3000' || r == '\u00a0' || r == '\ufeff':
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// ValidateID checks a resident ID number at the given date (the registration
// date: age is counted then) and returns what it states. The error is an
// *apperr.Error of kind invalid for field id_number, with one of the id_*
// codes above and a Chinese message saying what is wrong.
// Errors: Invalid id_required, id_excel_scientific, id_excel_truncated, id_length, id_format, id_checksum, id_province, id_birthdate, id_age.
func ValidateID(raw string, at time.Time) (ResidentID, error) {
	s := NormalizeID(raw)
	if s == "" {
		return ResidentID{}, idErr(CodeIDRequired, "请填写身份证号")
	}
	if excelScientific.MatchString(s) {
		return ResidentID{}, idErr(CodeIDExcelScientific,
			"身份证号被 Excel 显示成了科学计数法（如 4.20106E+17），后几位已经丢失；请把该列设为“文本”格式后重新填写")
	}
	if len(s) == 15 && allDigits(s) {
		return ResidentID{}, idErr(CodeIDExcelTruncated,
			"身份证号只有 15 位：可能是已停用的旧版 15 位号码，或被 Excel 截断；请填写 18 位身份证号")
	}
	if n := utf8.RuneCountInString(s); n != 18 {
		return ResidentID{}, idErr(CodeIDLength, fmt.Sprintf("身份证号应为 18 位，实际为 %d 位", n))
	}
	if !allDigits(s[:17]) || !(isDigit(s[17]) || s[17] == 'X') {
		return ResidentID{}, idErr(CodeIDFormat, "身份证号应为 17 位数字加 1 位数字或 X")
	}
	if want := CheckChar(s); s[17] != want {
		// Excel keeps 15 significant digits, so an ID typed into a number
		// cell comes back with its last three characters as 000.
		if strings.HasSuffix(s, "000") {
			return ResidentID{}, idErr(CodeIDExcelTruncated,
				"身份证号末三位为 000 且校验位不符，可能被 Excel 按数字保存后丢失了末几位；请把该列设为“文本”格式后重新填写")
		}
		return ResidentID{}, idErr(CodeIDChecksum, "身份证号校验位不正确，请核对是否输错")
	}
	if !provinces[s[:2]] {
		return ResidentID{}, idErr(CodeIDProvince, "身份证号前两位不是有效的省级行政区划代码")
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 {
		return ResidentID{}, idErr(CodeIDBirthdate, "身份证号中的出生日期不是有效日期")
	}
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	if birth.After(day) {
		return ResidentID{}, idErr(CodeIDBirthdate, "身份证号中的出生日期晚于今天")
	}
	if age := AgeAt(birth, at); age < MinAge || age > MaxAge {
		return ResidentID{}, idErr(CodeIDAge,
			fmt.Sprintf("按身份证号计算年龄为 %d 岁，登记年龄须在 %d 至 %d 岁之间", age, MinAge, MaxAge))
	}
	sex := SexFemale
	if (s[16]-'0')%2 == 1 {
		sex = SexMale
	}
	return ResidentID{Number: s, Area: s[:6], Birth: birth, Sex: sex}, nil
}

// AgeAt returns the age in whole years on the date of at of someone born on
// birth (a 29 February birthday counts as reached on 1 March in other years).
func AgeAt(birth, at time.Time) int {
	age := at.Year() - birth.Year()
	if at.Month() < birth.Month() || (at.Month() == birth.Month() && at.Day() < birth.Day()) {
		age--
	}
	return age
}

// GenerateID returns a valid ID number for area (six digits), birth and sex
// with a random sequence number from r. Tests and the demo seed use it; it
// panics on an area that is not six digits, which is a programming error.
func GenerateID(r *rand.Rand, area string, birth time.Time, sex Sex) string {
	if len(area) != 6 || !allDigits(area) {
		panic("workers.GenerateID: area must be six digits, got " + area)
	}
	seq := r.IntN(100) // the first two sequence digits: police station code
	last := r.IntN(5) * 2
	if sex == SexMale {
		last++
	}
	first17 := fmt.Sprintf("%s%s%02d%d", area, birth.Format("20060102"), seq, last)
	return first17 + string(CheckChar(first17))
}

// phonePattern is a mainland mobile number: 1, then 3–9, then nine digits.
var phonePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// Codes of phone number problems.
const CodePhoneFormat = "phone_format"

// NormalizePhone drops spaces, hyphens and a leading +86 or 86.
func NormalizePhone(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\u3000' || r == '\u00a0' || r == '\t':
			return -1
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		}
		return r
	}, s)
	s = strings.TrimPrefix(s, "+86")
	if len(s) == 13 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	return s
}

// ValidatePhone checks a mainland mobile number and returns it normalised.
// The error is an *apperr.Error of kind invalid for field phone, code
// phone_format. Errors: Invalid phone_format.
func ValidatePhone(raw string) (string, error) {
	s := NormalizePhone(raw)
	if !phonePattern.MatchString(s) {
		return "", apperr.Invalid(CodePhoneFormat, "手机号格式不正确", apperr.FieldError{
			Field: "phone", Code: CodePhoneFormat, Message: "手机号应为 11 位中国大陆手机号码，以 13–19 开头",
		})
	}
	return s, nil
}

func idErr(code, msg string) *apperr.Error {
	return apperr.Invalid(code, msg, apperr.FieldError{Field: FieldIDNumber, Code: code, Message: msg})
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
