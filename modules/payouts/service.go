package payouts

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/orgs"
	"tuoyu/modules/workers"
)

// Service is the payouts use cases: batches, the bank file, payment,
// returns, budgets and the HR overview.
type Service struct {
	db      *bun.DB
	workers *workers.Service
	sources Sources
	now     func() time.Time
	loc     *time.Location
	// rollup: the overview sums payouts_stats_monthly instead of counting
	// the sources (tests turn it off to compare both).
	rollup bool
}

// NewService returns the payouts service. sources are the other modules'
// event sub-queries for the overview; now is the clock; loc the time zone of
// dates (Asia/Shanghai).
func NewService(db *bun.DB, ws *workers.Service, sources Sources, now func() time.Time, loc *time.Location) *Service {
	return &Service{db: db, workers: ws, sources: sources, now: now, loc: loc, rollup: true}
}

// viewers may see the overview: HR staff and regulators in their region,
// admins everywhere.
var viewers = []accounts.Role{accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleRegulator, accounts.RoleAdmin}

// today is the current date in the service's zone, as a UTC midnight.
func (s *Service) today() time.Time {
	t := s.now().In(s.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// regionInScope resolves the region a caller asks about: their own when
// empty (the province for admins). A region that does not exist or lies
// outside the caller's scope answers NotFound region_not_found alike.
func regionInScope(ctx context.Context, idb bun.IDB, p *accounts.Principal, region string) (orgs.Region, error) {
	region = strings.TrimSpace(region)
	if region == "" {
		region = p.Region
		if region == "" || p.Role == accounts.RoleAdmin {
			region = "420000"
		}
	}
	notFound := apperr.NotFound("region_not_found", "地区不存在或不在您的管辖范围内")
	if len(region) != 6 || !p.Scope().CoversRegion(region) {
		return orgs.Region{}, notFound
	}
	r, err := orgs.NewStore(idb).RegionByCode(ctx, region)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return orgs.Region{}, notFound
	}
	return r, err
}

// ParseYear reads a year parameter; empty means the current year. Errors:
// Invalid invalid_year.
func (s *Service) ParseYear(raw string) (int, error) {
	now := s.today().Year()
	if strings.TrimSpace(raw) == "" {
		return now, nil
	}
	y, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || y < 2017 || y > now+1 {
		return 0, apperr.Invalid("invalid_year", "年份须为 2017 至 "+strconv.Itoa(now+1)+" 之间的整数",
			apperr.FieldError{Field: "year", Code: "invalid_year", Message: "年份须为 2017 至 " + strconv.Itoa(now+1) + " 之间的整数"})
	}
	return y, nil
}

// Stats counts, for one region (default: the caller's) and year, by month
// and by city or county: workers trained, passed and certified, claims by
// status, claims and yuan approved, paid and returned, and the budget used.
// Every figure comes from one read-only snapshot, so the numbers agree with
// each other: summed from the exact rollup payouts_stats_monthly (kept by statement triggers; counted fresh from the
// sources outside the rollup's zone). Errors: Forbidden forbidden_role;
// NotFound region_not_found.
func (s *Service) Stats(ctx context.Context, p *accounts.Principal, region string, year int) (*Stats, error) {
	if !p.Is(viewers...) {
		return nil, apperr.Forbidden("forbidden_role", "只有人社、卫健部门和管理员可以查看统计")
	}
	st := &Stats{Year: year, Unavailable: []string{}}
	err := s.db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		r, err := regionInScope(ctx, tx, p, region)
		if err != nil {
			return err
		}
		st.Region, st.RegionName = r.Code, r.Name
		all, err := orgs.NewStore(tx).Regions(ctx)
		if err != nil {
			return fmt.Errorf("load regions: %w", err)
		}
		regions := make(map[string]orgs.Region, len(all))
		for _, x := range all {
			regions[x.Code] = x
		}
		prefix := accounts.RegionPrefix(r.Code)
		agg := newAggregate(groupFunc(r.Code, regions))
		store := NewStore(tx)
		if s.rollup && s.loc.String() == rollupZone {
			err = s.countFromRollup(ctx, tx, st, agg, prefix, year)
		} else {
			err = s.countFresh(ctx, tx, st, agg, prefix, year)
		}
		if err != nil {
			return err
		}
		agg.finish(st, regions)
		codes := []string{r.Code}
		for _, g := range st.Regions {
			codes = append(codes, g.Code)
		}
		budgets, err := store.Budgets(ctx, year, codes)
		if err != nil {
			return err
		}
		applyBudgets(st, r.Code, budgets)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// countFresh adds every figure of year under prefix to agg, counted from
// the sources in the transaction's snapshot: the overview outside the
// rollup's zone, and the reference the rollup is tested against.
func (s *Service) countFresh(ctx context.Context, tx bun.Tx, st *Stats, agg *aggregate, prefix string, year int) error {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	store := NewStore(tx)
	if err := store.setZone(ctx, s.loc); err != nil {
		return err
	}
	// The claims count, the longest, runs on a second connection in this
	// transaction's snapshot while this one counts the rest: the same
	// data, about half the wait on two cores.
	claimsDone := make(chan claimsResult, 1)
	if s.sources.Claims == nil {
		st.Unavailable = append(st.Unavailable, "claims")
		claimsDone <- claimsResult{}
	} else {
		snap, err := exportSnapshot(ctx, tx)
		if err != nil {
			return err
		}
		go func() {
			cells, err := s.claimsInSnapshot(ctx, snap, prefix, year)
			claimsDone <- claimsResult{cells, err}
		}()
	}
	err := s.countEvents(ctx, tx, st, agg, prefix, from, to, nil)
	res := <-claimsDone // always awaited: the snapshot lives as long as tx
	if err != nil {
		return err
	}
	if res.err != nil {
		return res.err
	}
	addClaimCells(agg, res.cells)
	cells, err := store.paidCells(ctx, prefix, from, to)
	if err != nil {
		return err
	}
	addPaidCells(agg, cells)
	return nil
}

// rolledUp are the event figures payouts_stats_monthly keeps (all of
// them): countEvents only notes the missing sources.
var rolledUp = map[string]bool{"trained": true, "passed": true, "certified": true}

// countFromRollup adds the figures of year under prefix to agg from the
// rollup: claims, approvals, payments, completions, passes, certificates.
func (s *Service) countFromRollup(ctx context.Context, tx bun.Tx, st *Stats, agg *aggregate, prefix string, year int) error {
	store := NewStore(tx)
	if err := store.setZone(ctx, s.loc); err != nil {
		return err
	}
	if s.sources.Claims == nil {
		st.Unavailable = append(st.Unavailable, "claims")
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.countEvents(ctx, tx, st, agg, prefix, from, from.AddDate(1, 0, 0), rolledUp); err != nil {
		return err
	}
	cells, err := store.rollupCells(ctx, prefix, year)
	if err != nil {
		return err
	}
	addRollupCells(agg, cells, s.sources)
	return nil
}

// addRollupCells is the pure step adding the rollup's sums to agg, the
// measures whose source is missing left out (reported unavailable).
func addRollupCells(agg *aggregate, cells []rollupCell, src Sources) {
	for _, rc := range cells {
		c := cell{RegionCode: rc.RegionCode, Month: rc.Month, Key: rc.Key, N: rc.N, Yuan: rc.Yuan}
		switch {
		case rc.Measure == "trained" && src.Trained != nil:
			agg.add(c, func(f *Figures, c cell) { f.Trained += c.N })
		case rc.Measure == "passed" && src.Passed != nil:
			agg.add(c, func(f *Figures, c cell) { f.Passed += c.N })
		case rc.Measure == "certified" && src.Certified != nil:
			agg.add(c, func(f *Figures, c cell) { f.Certified += c.N })
		case rc.Measure == "claimed" && src.Claims != nil:
			addClaimCells(agg, []claimCell{{RegionCode: c.RegionCode, Month: c.Month, Status: c.Key, N: c.N, Yuan: c.Yuan}})
		case rc.Measure == "approved" && src.Claims != nil:
			addClaimCells(agg, []claimCell{{RegionCode: c.RegionCode, Month: c.Month, Approval: true, N: c.N, Yuan: c.Yuan}})
		case rc.Measure == "paid":
			addPaidCells(agg, []cell{c})
		}
	}
}

// addClaimCells is the pure step adding the claims counts to agg, apart
// from Stats' queries.
func addClaimCells(agg *aggregate, cells []claimCell) {
	for _, cc := range cells {
		c := cell{RegionCode: cc.RegionCode, Month: cc.Month, Key: cc.Status, N: cc.N, Yuan: cc.Yuan}
		if c.N == 0 {
			continue
		}
		if cc.Approval {
			agg.add(c, func(f *Figures, c cell) { f.Approved += c.N; f.ApprovedYuan += c.Yuan })
		} else {
			agg.add(c, func(f *Figures, c cell) { f.Claimed += c.N; f.ByStatus[c.Key] += c.N })
		}
	}
}

// addPaidCells is the pure step adding the paid and returned counts to
// agg, apart from Stats' queries.
func addPaidCells(agg *aggregate, cells []cell) {
	for _, c := range cells {
		agg.add(c, func(f *Figures, c cell) {
			if c.Key == string(ItemReturned) {
				f.Returned += c.N
				f.ReturnedYuan += c.Yuan
			} else {
				f.Paid += c.N
				f.PaidYuan += c.Yuan
			}
		})
	}
}

// applyBudgets is the pure step setting the region's and its groups'
// budgets on st, apart from Stats' queries.
func applyBudgets(st *Stats, region string, budgets []Budget) {
	for _, b := range budgets {
		if b.RegionCode == region {
			st.Budget = &BudgetUse{AmountYuan: b.AmountYuan, UsedYuan: st.Total.PaidYuan,
				Percent: int(st.Total.PaidYuan * 100 / b.AmountYuan)}
		}
		for i := range st.Regions {
			if st.Regions[i].Code == b.RegionCode {
				v := b.AmountYuan
				st.Regions[i].BudgetYuan = &v
			}
		}
	}
}

type claimsResult struct {
	cells []claimCell
	err   error
}

// claimsInSnapshot counts the claims of the year under prefix in its own
// read-only transaction on the snapshot snap (pg_export_snapshot of the
// overview's transaction).
func (s *Service) claimsInSnapshot(ctx context.Context, snap, prefix string, year int) ([]claimCell, error) {
	var out []claimCell
	err := s.db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		if err := importSnapshot(ctx, tx, snap); err != nil {
			return err
		}
		st := NewStore(tx)
		if err := st.setZone(ctx, s.loc); err != nil {
			return err
		}
		var err error
		out, err = st.claimCells(ctx, s.sources.Claims(tx), prefix,
			time.Date(year, 1, 1, 0, 0, 0, 0, s.loc), time.Date(year+1, 1, 1, 0, 0, 0, 0, s.loc))
		return err
	})
	return out, err
}

// countEvents adds the owners' event counts (trained, passed, certified)
// of [from, to) under prefix to agg, noting the sources that are missing.
func (s *Service) countEvents(ctx context.Context, tx bun.Tx, st *Stats, agg *aggregate, prefix string, from, to time.Time, skip map[string]bool) error {
	store := NewStore(tx)
	for _, ev := range []struct {
		name string
		src  Source
		f    func(*Figures, cell)
	}{
		{"trained", s.sources.Trained, func(f *Figures, c cell) { f.Trained += c.N }},
		{"passed", s.sources.Passed, func(f *Figures, c cell) { f.Passed += c.N }},
		{"certified", s.sources.Certified, func(f *Figures, c cell) { f.Certified += c.N }},
	} {
		if ev.src == nil {
			st.Unavailable = append(st.Unavailable, ev.name)
			continue
		}
		if skip[ev.name] {
			continue
		}
		cells, err := store.eventCells(ctx, ev.src(tx), prefix, from, to)
		if err != nil {
			return fmt.Errorf("%s: %w", ev.name, err)
		}
		for _, c := range cells {
			agg.add(c, ev.f)
		}
	}
	return nil
}

// BudgetInput is a budget as an admin sets it.
type BudgetInput struct {
	RegionCode string
	Year       int
	AmountYuan int64
	Note       string
}

// SetBudget sets (or replaces) the budget of a region and year, audited.
// Errors: Forbidden forbidden_role; Invalid validation_failed (fields
// region_code, year, amount_yuan, note).
func (s *Service) SetBudget(ctx context.Context, p *accounts.Principal, in BudgetInput) (*Budget, error) {
	if !p.Is(accounts.RoleAdmin) {
		return nil, apperr.Forbidden("forbidden_role", "只有管理员可以设置预算")
	}
	in.RegionCode, in.Note = strings.TrimSpace(in.RegionCode), strings.TrimSpace(in.Note)
	var fields []apperr.FieldError
	if y := s.today().Year(); in.Year < 2017 || in.Year > y+1 {
		fields = append(fields, apperr.FieldError{Field: "year", Code: "invalid_year", Message: "年份须为 2017 至 " + strconv.Itoa(y+1) + " 之间"})
	}
	if in.AmountYuan <= 0 || in.AmountYuan > 100_000_000_000 {
		fields = append(fields, apperr.FieldError{Field: "amount_yuan", Code: "invalid_amount", Message: "预算须为大于 0 的整数元（不超过 1000 亿）"})
	}
	if len([]rune(in.Note)) > 200 {
		fields = append(fields, apperr.FieldError{Field: "note", Code: "note_too_long", Message: "备注不超过 200 字"})
	}
	b := &Budget{RegionCode: in.RegionCode, Year: in.Year, AmountYuan: in.AmountYuan, Note: in.Note, SetBy: p.UserID}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := orgs.CheckRegion(ctx, tx, "region_code", in.RegionCode); err != nil {
			if e, ok := apperr.As(err); ok {
				fields = append(fields, e.Fields...)
			} else {
				return err
			}
		}
		if len(fields) > 0 {
			return apperr.Invalid("validation_failed", "预算填写有误", fields...)
		}
		if err := NewStore(tx).UpsertBudget(ctx, b); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "payouts.budget_set", TargetType: "payout_budget",
			TargetID: strconv.FormatInt(b.ID, 10), Summary: map[string]any{"region": b.RegionCode, "year": b.Year, "amount_yuan": b.AmountYuan}})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Budgets lists every budget, for the admin page. Errors: Forbidden
// forbidden_role.
func (s *Service) Budgets(ctx context.Context, p *accounts.Principal) ([]Budget, error) {
	if !p.Is(accounts.RoleAdmin) {
		return nil, apperr.Forbidden("forbidden_role", "只有管理员可以查看预算设置")
	}
	return NewStore(s.db).ListBudgets(ctx)
}
