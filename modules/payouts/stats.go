package payouts

import (
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/uptrace/bun"

	"tuoyu/modules/orgs"
	"tuoyu/modules/tabular"
)

// Source is a sub-query, built by the module that owns the table, yielding
// one row per event with columns region_code (text) and day (date): a
// completed enrolment, a passed assessment, an issued certificate. The
// overview filters and counts it; the SQL naming the owner's tables stays in
// the owner's store.
type Source func(idb bun.IDB) *bun.SelectQuery

// ClaimSource is the claims module's sub-query for the overview: one row per
// claim with region_code, submitted_on (date), approved_on (date or NULL),
// status and amount_yuan.
type ClaimSource func(idb bun.IDB) *bun.SelectQuery

// Sources are the event sub-queries of the overview. A nil source is a
// figure whose owner module does not exist yet: it is reported as
// unavailable, never as zero.
type Sources struct {
	Trained   Source
	Passed    Source
	Certified Source
	Claims    ClaimSource
}

// Figures are the numbers of one month, one region or the whole.
type Figures struct {
	Trained      int64            `json:"trained"`
	Passed       int64            `json:"passed"`
	Certified    int64            `json:"certified"`
	Claimed      int64            `json:"claimed"`
	Approved     int64            `json:"approved"`
	ApprovedYuan int64            `json:"approved_yuan"`
	Paid         int64            `json:"paid"`
	PaidYuan     int64            `json:"paid_yuan"`
	Returned     int64            `json:"returned"`
	ReturnedYuan int64            `json:"returned_yuan"`
	ByStatus     map[string]int64 `json:"claims_by_status"`
}

// MonthFigures are the figures of one month of the year.
type MonthFigures struct {
	Month string `json:"month"` // 2026-01
	Figures
}

// RegionFigures are the figures of one city or county.
type RegionFigures struct {
	Code       string `json:"region"`
	Name       string `json:"name"`
	BudgetYuan *int64 `json:"budget_yuan"`
	Figures
}

// BudgetUse is a region's budget for the year and how much of it is paid.
type BudgetUse struct {
	AmountYuan int64 `json:"amount_yuan"`
	UsedYuan   int64 `json:"used_yuan"`
	Percent    int   `json:"percent"`
}

// Stats is the HR overview of one region and year.
type Stats struct {
	Region      string          `json:"region"`
	RegionName  string          `json:"region_name"`
	Year        int             `json:"year"`
	Months      []MonthFigures  `json:"months"`
	Regions     []RegionFigures `json:"regions"`
	Total       Figures         `json:"total"`
	Budget      *BudgetUse      `json:"budget"`
	Unavailable []string        `json:"unavailable"`
}

// ClaimStatuses are the claim statuses the overview counts, in flow order.
var ClaimStatuses = []string{"submitted", "reviewed", "notice", "payable", "batched", "paid", "returned", "rejected"}

// claimStatusLabels are their Chinese names.
var claimStatusLabels = map[string]string{
	"submitted": "已提交", "reviewed": "已初审", "notice": "公示中", "payable": "待拨付",
	"batched": "拨付中", "paid": "已拨付", "returned": "银行退回", "rejected": "未通过",
}

// ClaimStatusLabel is the Chinese name of a claim status.
func ClaimStatusLabel(s string) string {
	if l, ok := claimStatusLabels[s]; ok {
		return l
	}
	return s
}

// cell is one aggregated row of a stats query: a region code, a month and
// what it counts.
type cell struct {
	RegionCode string `bun:"region_code"`
	Month      int    `bun:"month"`
	Key        string `bun:"key"`
	N          int64  `bun:"n"`
	Yuan       int64  `bun:"yuan"`
}

// aggregate folds cells into the figures by month and by group of region.
// apply adds one cell to a Figures value. groupOf maps a region code to the
// child of the requested region it belongs to.
type aggregate struct {
	months  [12]Figures
	groups  map[string]*Figures
	total   Figures
	groupOf func(string) string
}

func newAggregate(groupOf func(string) string) *aggregate {
	a := &aggregate{groups: map[string]*Figures{}, groupOf: groupOf}
	for i := range a.months {
		a.months[i].ByStatus = map[string]int64{}
	}
	a.total.ByStatus = map[string]int64{}
	return a
}

// add applies f to the month, the group and the total of c.
func (a *aggregate) add(c cell, f func(*Figures, cell)) {
	if c.Month >= 1 && c.Month <= 12 {
		f(&a.months[c.Month-1], c)
	}
	g := a.groupOf(c.RegionCode)
	fg, ok := a.groups[g]
	if !ok {
		fg = &Figures{ByStatus: map[string]int64{}}
		a.groups[g] = fg
	}
	f(fg, c)
	f(&a.total, c)
}

// groupFunc returns the function that maps a region code to the direct
// child of region that contains it (a city of the province, a county of a
// city), or to region itself for records at its own level.
func groupFunc(region string, regions map[string]orgs.Region) func(string) string {
	cache := map[string]string{}
	return func(code string) string {
		if g, ok := cache[code]; ok {
			return g
		}
		g := code
		for c := code; c != "" && c != region; {
			r, ok := regions[c]
			if !ok {
				break
			}
			if r.ParentCode == region {
				g = c
				break
			}
			c = r.ParentCode
		}
		cache[code] = g
		return g
	}
}

// finish turns the aggregate into Stats, regions in code order with names.
func (a *aggregate) finish(st *Stats, regions map[string]orgs.Region) {
	for i := range a.months {
		st.Months = append(st.Months, MonthFigures{Month: fmt.Sprintf("%04d-%02d", st.Year, i+1), Figures: a.months[i]})
	}
	codes := make([]string, 0, len(a.groups))
	for c := range a.groups {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	st.Regions = []RegionFigures{}
	for _, c := range codes {
		name := regions[c].Name
		if c == st.Region {
			name += "（本级）"
		}
		st.Regions = append(st.Regions, RegionFigures{Code: c, Name: name, Figures: *a.groups[c]})
	}
	st.Total = a.total
}

// statsColumns are the CSV columns after the row's label columns.
var statsColumns = []string{"培训结业人数", "考核通过人数", "取证人数", "补贴申请笔数", "审批通过笔数", "审批通过金额(元)",
	"已拨付笔数", "已拨付金额(元)", "银行退回笔数", "银行退回金额(元)"}

func (f Figures) row(unavailable map[string]bool) []string {
	n := func(metric string, v int64) string {
		if unavailable[metric] {
			return "暂无数据"
		}
		return strconv.FormatInt(v, 10)
	}
	return []string{n("trained", f.Trained), n("passed", f.Passed), n("certified", f.Certified),
		n("", f.Claimed), n("", f.Approved), n("", f.ApprovedYuan), n("", f.Paid), n("", f.PaidYuan),
		n("", f.Returned), n("", f.ReturnedYuan)}
}

// WriteCSV writes the same numbers as the page and the JSON: one row per
// month, one per region, the total, then the claims by status.
func (st *Stats) WriteCSV(w io.Writer) error {
	un := map[string]bool{}
	for _, u := range st.Unavailable {
		un[u] = true
	}
	cw := tabular.NewCSVWriter(w)
	head := append([]string{"分组", "月份或地区"}, statsColumns...)
	for _, s := range ClaimStatuses {
		head = append(head, "申请-"+ClaimStatusLabel(s))
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	write := func(kind, label string, f Figures) error {
		r := append([]string{kind, label}, f.row(un)...)
		for _, s := range ClaimStatuses {
			r = append(r, strconv.FormatInt(f.ByStatus[s], 10))
		}
		return cw.Write(r)
	}
	for _, m := range st.Months {
		if err := write("月份", m.Month, m.Figures); err != nil {
			return err
		}
	}
	for _, r := range st.Regions {
		if err := write("地区", r.Name+"（"+r.Code+"）", r.Figures); err != nil {
			return err
		}
	}
	if err := write("合计", st.RegionName+" "+strconv.Itoa(st.Year)+"年", st.Total); err != nil {
		return err
	}
	return cw.Flush()
}
