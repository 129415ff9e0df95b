package subsidies

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"tuoyu/modules/apperr"
)

// ProvinceRegion is the region code of Hubei, where every look-up ends.
const ProvinceRegion = "420000"

// Param is one dated, regional value of a policy parameter (DESIGN §6.1).
// Values are never edited in place: a newer value with a later
// EffectiveFrom supersedes an older one from that date on.
type Param struct {
	Name          string          `json:"name"`
	Region        string          `json:"region"`
	EffectiveFrom Date            `json:"effective_from"`
	EffectiveTo   *Date           `json:"effective_to,omitempty"` // last day in force, inclusive
	Value         json.RawMessage `json:"value"`
	Reference     string          `json:"reference"`
	// Example marks figures taken from another region's notice because the
	// Hubei figure is not confirmed; pages must show them as examples.
	Example bool `json:"example,omitempty"`
}

// InForce reports whether p applies on day d.
func (p Param) InForce(d Date) bool {
	return !d.Before(p.EffectiveFrom) && (p.EffectiveTo == nil || !d.After(*p.EffectiveTo))
}

// entry is a Param with its value decoded once and its canonical form for
// the policy version, so evaluations do not re-parse JSON.
type entry struct {
	Param
	seq       int    // position in the list: later entries win ties
	decoded   any    // json.Number, string, []any, map[string]any or nil
	canonical string // one line identifying exactly this value
}

// ParamSet is an immutable set of parameter values that answers look-ups by
// (name, region, as_of). Build it with NewParamSet; the zero ParamSet is empty.
type ParamSet struct {
	byName map[string][]*entry
	all    []*entry
}

// NewParamSet validates params and indexes them. It returns an Invalid error
// naming the first bad value (row is its position, from 1). Errors: Invalid invalid_parameter.
func NewParamSet(params []Param) (ParamSet, error) {
	ps := ParamSet{byName: make(map[string][]*entry)}
	for i, p := range params {
		e := &entry{Param: p, seq: i}
		if err := validateParam(p); err != nil {
			return ParamSet{}, paramError(i, p, err.Error())
		}
		dec := json.NewDecoder(bytes.NewReader(p.Value))
		dec.UseNumber()
		if err := dec.Decode(&e.decoded); err != nil {
			return ParamSet{}, paramError(i, p, "取值不是有效的 JSON")
		}
		canon, err := json.Marshal(e.decoded) // maps marshal with sorted keys
		if err != nil {
			return ParamSet{}, paramError(i, p, "取值无法规范化")
		}
		to := ""
		if p.EffectiveTo != nil {
			to = p.EffectiveTo.String()
		}
		e.canonical = strings.Join([]string{p.Name, p.Region, p.EffectiveFrom.String(), to, string(canon)}, "\x1f")
		ps.byName[p.Name] = append(ps.byName[p.Name], e)
		ps.all = append(ps.all, e)
	}
	return ps, nil
}

func validateParam(p Param) error {
	switch {
	case p.Name == "":
		return fmt.Errorf("缺少参数名")
	case !regionPattern.MatchString(p.Region):
		return fmt.Errorf("地区应为 42 开头的六位代码")
	case p.EffectiveFrom.IsZero():
		return fmt.Errorf("缺少生效日期")
	case p.EffectiveTo != nil && p.EffectiveTo.Before(p.EffectiveFrom):
		return fmt.Errorf("失效日期早于生效日期")
	case len(bytes.TrimSpace(p.Value)) == 0:
		return fmt.Errorf("缺少取值")
	case strings.TrimSpace(p.Reference) == "":
		return fmt.Errorf("缺少政策依据")
	}
	return nil
}

func paramError(i int, p Param, msg string) error {
	return apperr.Invalid("invalid_parameter", "参数有误："+msg,
		apperr.FieldError{Field: p.Name, Row: i + 1, Code: "invalid_parameter", Message: msg})
}

// Params returns every value in the set, in the order given.
func (ps ParamSet) Params() []Param {
	out := make([]Param, len(ps.all))
	for i, e := range ps.all {
		out[i] = e.Param
	}
	return out
}

// Lookup returns the value of name in force on asOf for region: the most
// specific region first (420102 → 420100 → 420000), and within a region the
// value with the latest EffectiveFrom (the later entry on a tie).
func (ps ParamSet) Lookup(name, region string, asOf Date) (Param, bool) {
	if e := ps.find(name, region, asOf); e != nil {
		return e.Param, true
	}
	return Param{}, false
}

func (ps ParamSet) find(name, region string, asOf Date) *entry {
	return ps.findIn(name, regionChain(region), asOf)
}

func (ps ParamSet) findIn(name string, chain [3]string, asOf Date) *entry {
	list := ps.byName[name]
	if len(list) == 0 {
		return nil
	}
	for i, r := range chain {
		if i > 0 && r == chain[i-1] {
			continue
		}
		var best *entry
		for _, e := range list {
			if e.Region != r || !e.InForce(asOf) {
				continue
			}
			if best == nil || !e.EffectiveFrom.Before(best.EffectiveFrom) {
				best = e
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}

// regionChain lists the regions to try, most specific first: the region
// itself, its city (first four digits), then the province.
func regionChain(region string) [3]string {
	if !isRegion(region) {
		return [3]string{ProvinceRegion, ProvinceRegion, ProvinceRegion}
	}
	return [3]string{region, region[:4] + "00", ProvinceRegion}
}

// isRegion reports whether s is a Hubei region code (42 and four digits);
// the same as regionPattern without a regexp on the hot path.
func isRegion(s string) bool {
	if len(s) != 6 || s[0] != '4' || s[1] != '2' {
		return false
	}
	for i := 2; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lookup is one evaluation's view of a ParamSet: fixed region and date, and
// a record of every value used, for the policy version.
type lookup struct {
	ps    *ParamSet
	chain [3]string
	asOf  Date
	used  []*entry
}

func (l *lookup) get(name string) *entry {
	e := l.ps.findIn(name, l.chain, l.asOf)
	if e == nil {
		return nil
	}
	for _, u := range l.used {
		if u == e {
			return e
		}
	}
	l.used = append(l.used, e)
	return e
}

// number reads a whole-number parameter.
func (l *lookup) number(name string) (int64, *entry) {
	e := l.get(name)
	if e == nil {
		return 0, nil
	}
	n, ok := asInt(e.decoded)
	if !ok {
		return 0, nil
	}
	return n, e
}

// list reads a list-of-strings parameter; absent means empty.
func (l *lookup) list(name string) ([]string, *entry) {
	e := l.get(name)
	if e == nil {
		return nil, nil
	}
	items, _ := e.decoded.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out, e
}

func asInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}

// path walks nested objects of a decoded value: path(v, "standard", "5").
func path(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// version is the policy version of the values used: the first 12 hex digits
// of the SHA-256 of their sorted canonical lines.
func (l *lookup) version() string {
	lines := make([]string, len(l.used))
	for i, e := range l.used {
		lines[i] = e.canonical
	}
	sort.Strings(lines)
	return policyVersion(lines)
}

// policyVersion hashes sorted canonical lines.
func policyVersion(lines []string) string {
	n := 0
	for _, s := range lines {
		n += len(s) + 1
	}
	buf := make([]byte, 0, n)
	for _, s := range lines {
		buf = append(buf, s...)
		buf = append(buf, '\n')
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:6])
}

//go:embed defaults/parameters.json
var defaultParams []byte

// DefaultParams returns the reviewed default parameter values shipped with
// the binary (defaults/parameters.json).
// Errors: Invalid invalid_parameter when the shipped file is broken (a build defect).
func DefaultParams() ([]Param, error) {
	var ps []Param
	if err := json.Unmarshal(defaultParams, &ps); err != nil {
		return nil, fmt.Errorf("decode default parameters: %w", err)
	}
	return ps, nil
}
