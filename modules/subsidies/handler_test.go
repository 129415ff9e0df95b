package subsidies

import (
	"encoding/json"
	"testing"
)

func TestFieldLabel(t *testing.T) {
	tests := map[string]string{
		"person.groups[0]":          "六类人员第 1 项",
		"person.groups":             "六类人员",
		"person.insured_months":     "失业保险缴费月数",
		"person.banned":             "是否被列入终身禁入名单",
		"certificates[0].level":     "证书1 等级",
		"certificates[2].issued_on": "证书3 发证日期",
		"certificates[1]":           "证书2",
		"paid[0].paid_on":           "已领补贴1 发放日期",
		"paid[1].certificate_id":    "已领补贴2 对应证书",
		"region":                    "地区",
		"colour":                    "colour", // unknown paths are shown as they are
	}
	for path, want := range tests {
		if got := fieldLabel(path); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestCalcFormBlanksStayUnknown: the untouched form says nothing about the
// person, so groups, employment and the ban are absent (unknown), never
// "none" or a default answer.
func TestCalcFormBlanksStayUnknown(t *testing.T) {
	person := func(f calcForm) map[string]any {
		t.Helper()
		var doc struct{ Person map[string]any }
		if err := json.Unmarshal(f.situationJSON(), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Person
	}
	f := newCalcForm(MustDate("2025-06-30"))
	if p := person(f); len(p) != 0 {
		t.Errorf("the untouched form says %v about the person, want nothing", p)
	}
	f.GroupsAnswer = groupsNone
	if g, ok := person(f)["groups"].([]any); !ok || len(g) != 0 {
		t.Errorf("都不属于: groups %v, want []", person(f)["groups"])
	}
	f.GroupsAnswer, f.Groups = groupsSome, []string{"rural_migrant"}
	if g, _ := person(f)["groups"].([]any); len(g) != 1 || g[0] != "rural_migrant" {
		t.Errorf("属于: groups %v", g)
	}
	f.GroupsAnswer = groupsNone
	if len(f.check()) != 1 {
		t.Error("都不属于 with a ticked group is not refused")
	}
	f.GroupsAnswer, f.Groups = groupsSome, nil
	if len(f.check()) != 1 {
		t.Error("属于 without a ticked group is not refused")
	}
}
