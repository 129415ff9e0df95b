package subsidies

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/orgs"
)

// recheckEvery bounds how stale the cached parameter set may be when another
// instance adds a value; values added through this instance apply at once.
const recheckEvery = time.Second

// Service holds the subsidy use cases: the parameters in the database and
// evaluations against them.
type Service struct {
	db  *bun.DB
	loc *time.Location
	now func() time.Time

	mu        sync.Mutex
	defaults  bool // defaults loaded by this process
	set       ParamSet
	setMaxID  int64
	checkedAt time.Time
	regions   map[string]bool // codes of the regions table, read once
}

// NewService returns the subsidies service; loc is the zone "today" is taken in.
func NewService(db *bun.DB, loc *time.Location, now func() time.Time) *Service {
	return &Service{db: db, loc: loc, now: now}
}

// DefaultsLoad is what LoadDefaults did.
type DefaultsLoad struct {
	Added int // shipped values that were not stored yet
	// Changed lists shipped values whose stored default row (same name,
	// region and start date) says something else. The stored row stands:
	// a shipped default is corrected by a new dated row, never in place, so
	// evaluations already made stay explainable. The caller logs these, so
	// that a correction made in place does not vanish silently.
	Changed []DefaultChange
}

// DefaultChange is a shipped default that differs from its stored row.
type DefaultChange struct {
	Param  Param  // as shipped
	Fields string // what differs: value, effective_to, reference, example
}

// LoadDefaults adds the shipped default values that are not in the database
// yet (by name, region and start date) and reports shipped values that
// differ from the stored ones. It is idempotent and safe to run from several
// instances at once.
// Errors: Invalid invalid_parameter when the shipped file is broken; otherwise only internal ones.
func (s *Service) LoadDefaults(ctx context.Context) (DefaultsLoad, error) {
	dp, err := DefaultParams()
	if err != nil {
		return DefaultsLoad{}, err
	}
	return s.loadDefaults(ctx, dp)
}

func (s *Service) loadDefaults(ctx context.Context, dp []Param) (DefaultsLoad, error) {
	if _, err := NewParamSet(dp); err != nil {
		return DefaultsLoad{}, fmt.Errorf("default parameters: %w", err)
	}
	var res DefaultsLoad
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res = DefaultsLoad{}
		st := NewStore(tx)
		for _, p := range dp {
			sp := storedFrom(p, SourceDefault, 0, "")
			ok, err := st.InsertDefault(ctx, &sp)
			if err != nil {
				return err
			}
			if ok {
				res.Added++
				continue
			}
			old, err := st.Default(ctx, p.Name, p.Region, p.EffectiveFrom)
			if err != nil {
				return err
			}
			if diff := defaultDiff(old.Param(), p); diff != "" {
				res.Changed = append(res.Changed, DefaultChange{Param: p, Fields: diff})
			}
		}
		return nil
	})
	if err != nil {
		return DefaultsLoad{}, err
	}
	s.mu.Lock()
	s.defaults, s.checkedAt = true, time.Time{}
	s.mu.Unlock()
	return res, nil
}

// defaultDiff names the fields in which a shipped default differs from its
// stored row ("" when none); values compare as JSON, not as text.
func defaultDiff(stored, shipped Param) string {
	var diff []string
	if canonicalJSON(stored.Value) != canonicalJSON(shipped.Value) {
		diff = append(diff, "value")
	}
	if (stored.EffectiveTo == nil) != (shipped.EffectiveTo == nil) ||
		stored.EffectiveTo != nil && *stored.EffectiveTo != *shipped.EffectiveTo {
		diff = append(diff, "effective_to")
	}
	if stored.Reference != shipped.Reference {
		diff = append(diff, "reference")
	}
	if stored.Example != shipped.Example {
		diff = append(diff, "example")
	}
	return strings.Join(diff, ", ")
}

// canonicalJSON rewrites a JSON value with sorted keys and no spaces, as
// PostgreSQL's jsonb does not keep the text it was given.
func canonicalJSON(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

func storedFrom(p Param, source string, by int64, note string) StoredParam {
	sp := StoredParam{Name: p.Name, RegionCode: p.Region, EffectiveFrom: p.EffectiveFrom,
		ValueJSON: p.Value, Reference: p.Reference, Example: p.Example, Source: source, EnteredBy: by, Note: note}
	if p.EffectiveTo != nil {
		sp.EffectiveTo = *p.EffectiveTo
	}
	return sp
}

// Params returns the parameter set of the database, cached: rebuilt when a
// value was added (here at once, by another instance within a second). The
// first call loads the defaults.
// Errors: Invalid invalid_parameter when a stored value is broken; otherwise only internal ones.
func (s *Service) Params(ctx context.Context) (ParamSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.defaults {
		s.mu.Unlock()
		_, err := s.LoadDefaults(ctx)
		s.mu.Lock()
		if err != nil {
			return ParamSet{}, err
		}
	}
	now := s.now()
	if !s.checkedAt.IsZero() && now.Sub(s.checkedAt) < recheckEvery {
		return s.set, nil
	}
	maxID, err := NewStore(s.db).MaxID(ctx)
	if err != nil {
		return ParamSet{}, err
	}
	if s.checkedAt.IsZero() || maxID != s.setMaxID {
		rows, err := NewStore(s.db).All(ctx)
		if err != nil {
			return ParamSet{}, err
		}
		ps := make([]Param, len(rows))
		for i, r := range rows {
			ps[i] = r.Param()
		}
		set, err := NewParamSet(ps)
		if err != nil {
			return ParamSet{}, fmt.Errorf("stored parameters: %w", err)
		}
		s.set, s.setMaxID = set, maxID
	}
	s.checkedAt = now
	return s.set, nil
}

// checkRegion refuses a region code that is not in the regions table: the
// look-up would silently fall back to the province's values. The table is
// reference data that only migrations change, so it is read once per
// process rather than on every calculation. Errors: Invalid.
func (s *Service) checkRegion(ctx context.Context, code string) error {
	known, err := s.knownRegions(ctx)
	if err != nil {
		return err
	}
	if !known[code] {
		return apperr.Invalid("invalid_situation", "情形信息有误，请按提示修改",
			apperr.FieldError{Field: "region", Code: "unknown_region", Message: "行政区划代码「" + code + "」不存在"})
	}
	return nil
}

// knownRegions returns the codes of the regions table, read once per process.
func (s *Service) knownRegions(ctx context.Context) (map[string]bool, error) {
	s.mu.Lock()
	known := s.regions
	s.mu.Unlock()
	if known == nil {
		rows, err := orgs.NewStore(s.db).Regions(ctx)
		if err != nil {
			return nil, fmt.Errorf("list regions: %w", err)
		}
		known = make(map[string]bool, len(rows))
		for _, r := range rows {
			known[r.Code] = true
		}
		s.mu.Lock()
		s.regions = known
		s.mu.Unlock()
	}
	return known, nil
}

// ReadSituation decodes a situation sent by a person (the calculate API and
// the calculator page) and checks it against stored facts in the same pass:
// a region that does not exist and dates after today (when as_of is left
// out) are reported together with every other error, not after them.
// Errors: BadRequest malformed_json, Invalid invalid_situation.
func (s *Service) ReadSituation(ctx context.Context, r io.Reader) (Situation, error) {
	known, err := s.knownRegions(ctx)
	if err != nil {
		return Situation{}, err
	}
	return decodeSituation(r, &decoder{knownRegion: func(code string) bool { return known[code] }, today: s.Today()})
}

// CalculatorRegions is the calculator's choice of region: the province
// (labelled as its province-wide standard) and its prefecture-level units,
// read from the regions orgs keeps, so a new unit needs no code change.
// Errors: only internal ones (database).
func (s *Service) CalculatorRegions(ctx context.Context) ([]orgs.Region, error) {
	rows, err := orgs.NewStore(s.db).Regions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	var out []orgs.Region
	for _, r := range rows {
		switch r.Level {
		case 1:
			r.Name += "（全省标准）"
			out = append([]orgs.Region{r}, out...)
		case 2:
			out = append(out, r)
		}
	}
	return out, nil
}

// Today is the current date in the service's zone.
func (s *Service) Today() Date { return DateOf(s.now().In(s.loc)) }

// Calculate evaluates a situation against the parameters in force on its
// as_of, which defaults to today. Errors: Invalid (a region that does not
// exist; a certificate issued or a payment made after today when as_of was
// left out).
func (s *Service) Calculate(ctx context.Context, sit Situation) (Evaluation, error) {
	if sit.Region != "" {
		if err := s.checkRegion(ctx, sit.Region); err != nil {
			return Evaluation{}, err
		}
	}
	if sit.AsOf.IsZero() {
		sit.AsOf = s.Today()
		if err := CheckAsOf(sit); err != nil {
			return Evaluation{}, err
		}
	}
	ps, err := s.Params(ctx)
	if err != nil {
		return Evaluation{}, err
	}
	return Evaluate(sit, ps), nil
}

// History returns every stored value with who entered it, grouped by name
// (in the order of the defaults file, then others by name), and within a
// name by region, start date and entry. Errors: only internal ones (database).
func (s *Service) History(ctx context.Context) ([]StoredParam, error) {
	rows, err := NewStore(s.db).All(ctx)
	if err != nil {
		return nil, err
	}
	order := map[string]int{}
	if dp, err := DefaultParams(); err == nil {
		for _, p := range dp {
			if _, ok := order[p.Name]; !ok {
				order[p.Name] = len(order)
			}
		}
	}
	rank := func(name string) int {
		if r, ok := order[name]; ok {
			return r
		}
		return len(order)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch {
		case rank(a.Name) != rank(b.Name):
			return rank(a.Name) < rank(b.Name)
		case a.Name != b.Name:
			return a.Name < b.Name
		case a.RegionCode != b.RegionCode:
			return a.RegionCode < b.RegionCode
		case a.EffectiveFrom != b.EffectiveFrom:
			return a.EffectiveFrom.Before(b.EffectiveFrom)
		}
		return a.ID < b.ID
	})
	return rows, nil
}

// NewValue is an admin's new dated value of a parameter, as typed in.
type NewValue struct {
	Name          string
	Region        string
	EffectiveFrom string
	EffectiveTo   string // optional
	Value         string // JSON
	Reference     string
	Example       bool
	Note          string
}

// AddValue validates and appends a new dated value, audited with who entered
// it (the caller in ctx, who must be a logged-in user). It supersedes older
// values of the name and region from its start date; nothing is edited.
// Errors: Invalid (field errors), Unauthorized.
func (s *Service) AddValue(ctx context.Context, in NewValue) (StoredParam, error) {
	actor := audit.RequestFrom(ctx)
	if actor.UserID == 0 {
		return StoredParam{}, apperr.Unauthorized("login_required", "请先登录")
	}
	known, err := s.Params(ctx)
	if err != nil {
		return StoredParam{}, err
	}
	p, err := in.validate(known)
	if err != nil {
		return StoredParam{}, err
	}
	sp := storedFrom(p, SourceAdmin, actor.UserID, strings.TrimSpace(in.Note))
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := orgs.CheckRegion(ctx, tx, "region", p.Region); err != nil {
			return err
		}
		if err := NewStore(tx).Insert(ctx, &sp); err != nil {
			return err
		}
		summary := map[string]any{"name": sp.Name, "region": sp.RegionCode, "effective_from": sp.EffectiveFrom.String(),
			"value": json.RawMessage(p.Value), "example": sp.Example}
		if !sp.EffectiveTo.IsZero() {
			summary["effective_to"] = sp.EffectiveTo.String()
		}
		return audit.Record(ctx, tx, audit.Event{Action: "subsidies.parameter_add", TargetType: "policy_parameter",
			TargetID: strconv.FormatInt(sp.ID, 10), Summary: summary})
	})
	if err != nil {
		return StoredParam{}, err
	}
	s.mu.Lock()
	s.checkedAt = time.Time{} // rebuild on next use
	s.mu.Unlock()
	return sp, nil
}

// Names lists the parameter names that exist, for the form.
func (ps ParamSet) Names() []string {
	names := make([]string, 0, len(ps.byName))
	for n := range ps.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// validate checks a new value against the names and value shapes known.
func (in NewValue) validate(known ParamSet) (Param, error) {
	var fields []apperr.FieldError
	bad := func(field, code, msg string) {
		fields = append(fields, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	p := Param{Name: strings.TrimSpace(in.Name), Region: strings.TrimSpace(in.Region),
		Reference: strings.TrimSpace(in.Reference), Example: in.Example}
	existing := known.byName[p.Name]
	if len(existing) == 0 {
		bad("name", "unknown_parameter", "没有这个参数")
	}
	if !isRegion(p.Region) {
		bad("region", "invalid_region", "地区应为湖北省的六位行政区划代码")
	}
	from, err := ParseDate(strings.TrimSpace(in.EffectiveFrom))
	if err != nil {
		bad("effective_from", "invalid_date", "生效日期格式应为 YYYY-MM-DD")
	}
	p.EffectiveFrom = from
	if t := strings.TrimSpace(in.EffectiveTo); t != "" {
		to, err := ParseDate(t)
		switch {
		case err != nil:
			bad("effective_to", "invalid_date", "失效日期格式应为 YYYY-MM-DD")
		case !from.IsZero() && to.Before(from):
			bad("effective_to", "before_from", "失效日期不能早于生效日期")
		default:
			p.EffectiveTo = &to
		}
	}
	if p.Reference == "" {
		bad("reference", "required", "请填写政策依据（文件名称和文号）")
	}
	dec := json.NewDecoder(strings.NewReader(in.Value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		bad("value", "invalid_json", "取值应为 JSON：数字如 1500，列表如 [\"4-10-01-03\"]，表格如 {\"5\": 1000}")
	} else if len(existing) > 0 {
		allowNone := false
		for _, e := range existing {
			if str, ok := e.decoded.(string); ok && str == "none" {
				allowNone = true
			}
		}
		if code, msg := sameShape(shapeOf(known, p, existing), v, allowNone, bounds(p.Name), ""); code != "" {
			bad("value", code, msg)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(in.Value)); err == nil {
			p.Value = buf.Bytes()
		}
	}
	if len(fields) > 0 {
		return Param{}, apperr.Invalid("invalid_parameter", "参数取值有误，请按提示修改", fields...)
	}
	return p, nil
}

// shapeOf returns the value a new one must look like: the one in force in
// its region on its start date (so a 2020 correction of skill_upgrade.amount
// has the one tier of 2020, a 2026 value the three tiers of 2025), else the
// latest value of the name.
func shapeOf(known ParamSet, p Param, existing []*entry) any {
	if !p.EffectiveFrom.IsZero() && isRegion(p.Region) {
		if e := known.find(p.Name, p.Region, p.EffectiveFrom); e != nil {
			return e.decoded
		}
	}
	latest := existing[0]
	for _, e := range existing[1:] {
		if !e.EffectiveFrom.Before(latest.EffectiveFrom) {
			latest = e
		}
	}
	return latest.decoded
}

// limits is the sane range of a parameter's numbers, so that a typing slip
// cannot promise a person a fortune or overflow rate × hours.
type limits struct {
	lo, hi int64
	unit   string
}

// bounds gives the range of a parameter's numbers by what the name measures.
func bounds(name string) limits {
	switch {
	case name == "training.per_hour":
		return limits{0, 1000, "元"}
	case name == "claims.notice_working_days":
		// 公示 of no day is no 公示; two months is far beyond any rule.
		return limits{1, 60, "个工作日"}
	case name == "certificates.in_service_valid_years":
		// A certificate valid for 0 years would expire the day it is issued.
		return limits{1, 100, "年"}
	case strings.HasSuffix(name, "_limit"):
		return limits{0, 100, "次"}
	case strings.HasSuffix(name, "_months"):
		return limits{0, 600, "个月"}
	case strings.HasSuffix(name, "_days"):
		return limits{0, 365, "天"}
	case strings.HasSuffix(name, "_years"):
		return limits{0, 100, "年"}
	}
	return limits{0, 100000, "元"} // amounts and caps, in yuan
}

// sameShape checks a new value v has the structure of old, the value it
// supersedes: a whole number within lim (or "none" where the name already
// has "none", as a limit that may be absent), a list of strings, or a table
// with exactly old's keys at every depth (each tier × each level), whose
// entries again have the shape of old's. at is the key path so far, for
// messages. It returns a code (not_integer, out_of_range for a number
// outside lim, else wrong_shape) and what is wrong, or "", "" when nothing is.
func sameShape(old, v any, allowNone bool, lim limits, at string) (code, msg string) {
	where := ""
	if at != "" {
		where = "「" + at + "」"
	}
	switch o := old.(type) {
	case json.Number, string:
		if s, ok := v.(string); ok && s == "none" && allowNone {
			return "", ""
		}
		n, ok := asInt(v)
		if !ok {
			if lim.unit == "元" {
				return "not_integer", where + "取值应为整数（金额以元为单位）"
			}
			return "not_integer", where + "取值应为整数"
		}
		if n < lim.lo || n > lim.hi {
			return "out_of_range", fmt.Sprintf("%s取值应在 %d–%d %s之间", where, lim.lo, lim.hi, lim.unit)
		}
	case []any:
		list, ok := v.([]any)
		if !ok {
			return "wrong_shape", where + "取值应为列表，如 [\"4-10-01-03\"]"
		}
		for _, it := range list {
			if s, ok := it.(string); !ok || strings.TrimSpace(s) == "" {
				return "wrong_shape", where + "列表中每项应为职业编码字符串"
			}
		}
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return "wrong_shape", where + "取值应为表格，键为 " + strings.Join(sortedKeys(o), "、")
		}
		for _, k := range sortedKeys(m) {
			if _, ok := o[k]; !ok {
				return "wrong_shape", fmt.Sprintf("%s不应有键「%s」，应为 %s", where, k, strings.Join(sortedKeys(o), "、"))
			}
		}
		for _, k := range sortedKeys(o) {
			x, ok := m[k]
			if !ok {
				return "wrong_shape", fmt.Sprintf("%s缺少键「%s」，应为 %s", where, k, strings.Join(sortedKeys(o), "、"))
			}
			sub := k
			if at != "" {
				sub = at + "." + k
			}
			if code, msg := sameShape(o[k], x, false, lim, sub); code != "" {
				return code, msg
			}
		}
	}
	return "", ""
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
