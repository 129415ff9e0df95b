package rosters

import (
	"reflect"
	"strings"
	"testing"
)

func TestMaskCells(t *testing.T) {
	in := []string{"张三", "420106199001011234", "13812345678", "备注：身份证420106199001011234", "2026", "电话 13912345678"}
	got := maskCells(in, 1, 2)
	if want := []string{"张三", "420106********1234", "138****5678"}; !reflect.DeepEqual(got[:3], want) || got[4] != "2026" {
		t.Errorf("maskCells = %q", got)
	}
	// A cell of another column holding an ID or mobile number is masked
	// whole but for its last character: the safe side.
	for _, c := range got {
		if strings.Contains(c, "199001011234") || strings.Contains(c, "12345678") {
			t.Errorf("cell %q still holds a number", c)
		}
	}
	if in[1] != "420106199001011234" {
		t.Error("maskCells changed its input")
	}
}
