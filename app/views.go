package app

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/orgs"
)

// templateFuncs are the helpers every template may use. Times show in the
// configured zone (Asia/Shanghai by default).
func templateFuncs(loc *time.Location, regions *regionNames) map[string]any {
	return map[string]any{
		"regionName": regions.name,
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

// regionNames names region codes for people (template func regionName):
// 420106 → 武汉市武昌区, 420100 → 武汉市. The regions table is reference
// data only migrations change, so it is read once, on first use; a failed
// read is tried again on the next page, and meanwhile the code is shown.
type regionNames struct {
	load func(context.Context) ([]orgs.Region, error)

	mu    sync.Mutex
	names map[string]string
}

func newRegionNames(o *orgs.Service) *regionNames {
	if o == nil {
		return &regionNames{}
	}
	return &regionNames{load: o.Regions}
}

// name returns the full name of code: a district or county with its city
// (襄阳市襄城区), a city or the province alone; an unknown code as it is.
func (r *regionNames) name(code string) string {
	if r == nil || r.load == nil || code == "" {
		return code
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rows, err := r.load(ctx)
		if err != nil {
			return code
		}
		byCode := make(map[string]orgs.Region, len(rows))
		for _, x := range rows {
			byCode[x.Code] = x
		}
		r.names = make(map[string]string, len(rows))
		for _, x := range rows {
			name := x.Name
			if p, ok := byCode[x.ParentCode]; ok && p.Level > 1 {
				name = p.Name + x.Name
			}
			r.names[x.Code] = name
		}
	}
	if n, ok := r.names[code]; ok {
		return n
	}
	return code
}
