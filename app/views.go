package app

import (
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/orgs"
)

// templateFuncs are the helpers every template may use. Times show in the
// configured zone (Asia/Shanghai by default).
func templateFuncs(loc *time.Location) map[string]any {
	return map[string]any{
		"datetime": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.In(loc).Format("2006-01-02 15:04")
			case *time.Time:
				if v == nil || v.IsZero() {
					return ""
				}
				return v.In(loc).Format("2006-01-02 15:04")
			}
			return fmt.Sprint(t)
		},
		"date": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.In(loc).Format("2006-01-02")
			case *time.Time:
				if v == nil || v.IsZero() {
					return ""
				}
				return v.In(loc).Format("2006-01-02")
			case fmt.Stringer:
				return v.String()
			}
			return fmt.Sprint(t)
		},
		"roleLabel": func(r any) string { return accounts.Role(fmt.Sprint(r)).Label() },
		"orgKind":   orgs.KindLabel,
		"add":       func(a, b int) int { return a + b },
		"sub":       func(a, b int) int { return a - b },
		"pct": func(done, total any) int {
			d, t := toFloat(done), toFloat(total)
			if t <= 0 {
				return 0
			}
			p := int(d / t * 100)
			if p > 100 {
				p = 100
			}
			return p
		},
		"json": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
		"join": strings.Join,
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
		"safeURL": func(s string) template.URL { return template.URL(s) },
		"pages": func(total, perPage int) int {
			if perPage <= 0 {
				return 1
			}
			n := (total + perPage - 1) / perPage
			if n < 1 {
				n = 1
			}
			return n
		},
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return 0
}
