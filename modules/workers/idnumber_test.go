package workers

import (
	"math/rand/v2"
	"testing"
	"time"

	"tuoyu/modules/apperr"
)

var registrationDay = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func TestValidateID(t *testing.T) {
	tests := []struct {
		in   string
		code string // "" = valid
		sex  Sex
	}{
		{"420106199001011231", "", SexMale},
		{" 420106199001011231 ", "", SexMale},
		{"420106199001011127", "", SexFemale},
		{"４２０１０６１９９００１０１１２３１", "", SexMale}, // full-width digits
		{"810000199001011230", "", SexMale}, // Hong Kong residence permit
		{"420500200002290016", "", SexMale}, // 29 February of a leap year
		{"", CodeIDRequired, ""},
		{"   ", CodeIDRequired, ""},
		{"4.20106E+17", CodeIDExcelScientific, ""},
		{"4.20106199001011E+17", CodeIDExcelScientific, ""},
		{"4E17", CodeIDExcelScientific, ""},
		{"420106900101123", CodeIDExcelTruncated, ""},    // 15 digits
		{"420106199001011000", CodeIDExcelTruncated, ""}, // last three lost to Excel
		{"42010619900101123", CodeIDLength, ""},
		{"4201061990010112311", CodeIDLength, ""},
		{"42010619900101123Y", CodeIDFormat, ""},
		{"4201061990010112X1", CodeIDFormat, ""},
		{"420106199001011232", CodeIDChecksum, ""},
		{"420106199001011004", "", SexFemale}, // ends in 00 but checksum right
		{"710000199001011237", CodeIDProvince, ""},
		{"990000199001011234", CodeIDChecksum, ""},
		{"420106199002301230", CodeIDBirthdate, ""}, // 30 February
		{"11010519491231002X", CodeIDAge, ""},       // 76 years old
		{"11010519491231002x", CodeIDAge, ""},
		{"420106201012310018", CodeIDAge, ""}, // 15 years old
	}
	for _, tt := range tests {
		id, err := ValidateID(tt.in, registrationDay)
		if tt.code == "" {
			if err != nil {
				t.Errorf("ValidateID(%q) = %v, want valid", tt.in, err)
				continue
			}
			if id.Sex != tt.sex {
				t.Errorf("ValidateID(%q).Sex = %q, want %q", tt.in, id.Sex, tt.sex)
			}
			if id.Area != id.Number[:6] || len(id.Number) != 18 {
				t.Errorf("ValidateID(%q) = %+v: bad area or number", tt.in, id)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !ok {
			t.Errorf("ValidateID(%q) err = %v, want code %s", tt.in, err, tt.code)
			continue
		}
		if e.Code != tt.code || e.Kind != apperr.KindInvalid {
			t.Errorf("ValidateID(%q) code = %s kind %d, want %s", tt.in, e.Code, e.Kind, tt.code)
		}
		if len(e.Fields) != 1 || e.Fields[0].Field != FieldIDNumber || e.Fields[0].Code != tt.code || e.Fields[0].Message == "" {
			t.Errorf("ValidateID(%q) fields = %+v", tt.in, e.Fields)
		}
	}
}

func TestValidateIDBirthAndAgeBoundaries(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		birth time.Time
		code  string
	}{
		{time.Date(2010, 6, 15, 0, 0, 0, 0, time.UTC), ""},        // 16 today
		{time.Date(2010, 6, 16, 0, 0, 0, 0, time.UTC), CodeIDAge}, // 16 tomorrow
		{time.Date(1956, 6, 15, 0, 0, 0, 0, time.UTC), ""},        // 70 today
		{time.Date(1955, 6, 16, 0, 0, 0, 0, time.UTC), ""},        // 70, 71 tomorrow
		{time.Date(1955, 6, 15, 0, 0, 0, 0, time.UTC), CodeIDAge}, // 71 today
		{time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC), CodeIDBirthdate},
		{time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), CodeIDBirthdate},
	}
	for _, tt := range tests {
		id := GenerateID(r, "420106", tt.birth, SexFemale)
		_, err := ValidateID(id, at)
		if tt.code == "" && err != nil {
			t.Errorf("birth %s: %v, want valid", tt.birth.Format(time.DateOnly), err)
		}
		if tt.code != "" && !apperr.Is(err, tt.code) {
			t.Errorf("birth %s: err %v, want %s", tt.birth.Format(time.DateOnly), err, tt.code)
		}
	}
}

func TestGenerateIDIsValid(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 2000; i++ {
		birth := time.Date(1960+r.IntN(45), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		sex := SexMale
		if i%2 == 0 {
			sex = SexFemale
		}
		area := []string{"420102", "420106", "420502", "420602"}[i%4]
		n := GenerateID(r, area, birth, sex)
		id, err := ValidateID(n, registrationDay)
		if err != nil {
			t.Fatalf("GenerateID produced invalid %s: %v", n, err)
		}
		if id.Sex != sex || id.Area != area || !id.Birth.Equal(birth) {
			t.Fatalf("GenerateID(%s, %s, %s) = %+v", area, birth, sex, id)
		}
	}
}

func TestAgeAt(t *testing.T) {
	leap := time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)
	if got := AgeAt(leap, time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)); got != 25 {
		t.Errorf("AgeAt leap on 28 Feb = %d, want 25", got)
	}
	if got := AgeAt(leap, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); got != 26 {
		t.Errorf("AgeAt leap on 1 Mar = %d, want 26", got)
	}
}

func TestValidatePhone(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"13812345678", "13812345678", true},
		{"138 1234 5678", "13812345678", true},
		{"138-1234-5678", "13812345678", true},
		{"+86 139 0000 1111", "13900001111", true},
		{"8619900001111", "19900001111", true},
		{"12812345678", "", false},
		{"1381234567", "", false},
		{"138123456789", "", false},
		{"027-87654321", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := ValidatePhone(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("ValidatePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if !tt.ok && !apperr.Is(err, CodePhoneFormat) {
			t.Errorf("ValidatePhone(%q) err = %v, want %s", tt.in, err, CodePhoneFormat)
		}
	}
}

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{
		"420106199001011231", "11010519491231002X", "4.20106E+17", "420106900101123",
		"420106199001011000", "", "４２０１０６１９９００１０１１２３１", "42010619900230123X",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ValidateID(s, registrationDay)
		if err != nil {
			if _, ok := apperr.As(err); !ok {
				t.Fatalf("ValidateID(%q) returned a non-apperr error %v", s, err)
			}
			return
		}
		if len(id.Number) != 18 || CheckChar(id.Number) != id.Number[17] {
			t.Fatalf("ValidateID(%q) accepted %q with a wrong check character", s, id.Number)
		}
		if age := AgeAt(id.Birth, registrationDay); age < MinAge || age > MaxAge {
			t.Fatalf("ValidateID(%q) accepted age %d", s, age)
		}
		if !provinces[id.Number[:2]] {
			t.Fatalf("ValidateID(%q) accepted province %s", s, id.Number[:2])
		}
		if again, err := ValidateID(id.Number, registrationDay); err != nil || again != id {
			t.Fatalf("normalised %q does not validate to the same ID: %v", id.Number, err)
		}
	})
}
