package app

import (
	"fmt"
	"strings"
	"testing"
)

// TestMaskIsNotUndoneByTheBirthDate: a masked ID number hides the eight
// birth-date digits, so screens that show the mask must not show the birth
// date beside it (it would give the full number back with the last four).
func TestMaskIsNotUndoneByTheBirthDate(t *testing.T) {
	a := testApp(t)
	hr := login(t, "hr_reviewer1")
	res, body := hr.do("GET", "/api/v1/workers?per_page=5", nil)
	if res.StatusCode != 200 {
		t.Fatalf("list = %d %s", res.StatusCode, body)
	}
	list := decode[struct {
		Items []map[string]any `json:"items"`
	}](t, body)
	if len(list.Items) == 0 {
		t.Fatal("hr_reviewer1 sees no workers")
	}
	for _, it := range list.Items {
		if _, ok := it["birth_date"]; ok {
			t.Fatalf("list item carries birth_date beside the mask: %v", it)
		}
		if age, ok := it["age"].(float64); !ok || age < 16 || age > 70 {
			t.Fatalf("list item age = %v", it["age"])
		}
	}
	id := int64(list.Items[0]["id"].(float64))
	var enc []byte
	if err := a.DB.NewRaw("SELECT id_number_enc FROM workers WHERE id = ?", id).Scan(t.Context(), &enc); err != nil {
		t.Fatal(err)
	}
	full, err := a.Cipher.Decrypt(enc)
	if err != nil {
		t.Fatal(err)
	}
	birth := fmt.Sprintf("%s-%s-%s", full[6:10], full[10:12], full[12:14])
	for _, path := range []string{"/workers", fmt.Sprintf("/workers/%d", id), fmt.Sprintf("/api/v1/workers/%d", id)} {
		res, page := hr.do("GET", path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, res.StatusCode)
		}
		if strings.Contains(string(page), birth) {
			t.Errorf("GET %s shows the birth date %s beside the masked ID", path, birth)
		}
	}
}
