package accounts

import (
	"strings"

	"github.com/uptrace/bun"
)

// Scope is the part of the data a caller may see (DESIGN §2): everything
// (admin), a region and below (HR, regulators), one organisation's records
// (colleges, providers, institutions) or one worker's (workers).
type Scope struct {
	All          bool
	RegionPrefix string
	OrgID        int64
	WorkerID     int64
}

// ScopeColumns names, for one query, the columns (or SQL expressions, always
// constants of the code, never user input) that carry each kind of scope. A
// column left empty means callers of that kind see nothing.
type ScopeColumns struct {
	Region string // region code column, e.g. "w.region_code"
	Org    string // owning organisation column, e.g. "c.provider_org_id"
	// OrgIn, used instead of Org when a row belongs to several
	// organisations, is a subquery listing their ids.
	OrgIn  string
	Worker string // worker id column, e.g. "w.id"
}

// Scope returns what p may see.
func (p *Principal) Scope() Scope {
	if p == nil {
		return Scope{}
	}
	switch p.Role {
	case RoleAdmin:
		return Scope{All: true}
	case RoleWorker:
		return Scope{WorkerID: p.WorkerID}
	case RoleHRReviewer, RoleHRApprover, RoleRegulator:
		return Scope{RegionPrefix: RegionPrefix(p.Region)}
	default:
		return Scope{OrgID: p.OrgID}
	}
}

// RegionPrefix is the prefix of every region code inside region: 420000 → "42",
// 420100 → "4201", 420102 → "420102". Codes of county-level units directly
// administered by the province (4290xx) cover only themselves.
func RegionPrefix(region string) string {
	switch {
	case len(region) != 6:
		return region // an unusable region matches nothing useful
	case strings.HasSuffix(region, "0000"):
		return region[:2]
	case strings.HasSuffix(region, "00"):
		return region[:4]
	}
	return region
}

// CoversRegion reports whether a record in region is inside the scope's region.
// Org and worker scopes are checked by the caller with the record's owner.
func (s Scope) CoversRegion(region string) bool {
	return s.All || (s.RegionPrefix != "" && strings.HasPrefix(region, s.RegionPrefix))
}

// Apply adds to q the condition that keeps only rows inside the scope. It is
// the one place where scope becomes SQL: every query serving a user calls it.
func (s Scope) Apply(q *bun.SelectQuery, cols ScopeColumns) *bun.SelectQuery {
	switch {
	case s.All:
		return q
	case s.WorkerID != 0 && cols.Worker != "":
		return q.Where("? = ?", bun.Safe(cols.Worker), s.WorkerID)
	case s.RegionPrefix != "" && cols.Region != "":
		return q.Where("? LIKE ?", bun.Safe(cols.Region), s.RegionPrefix+"%")
	case s.OrgID != 0 && cols.Org != "":
		return q.Where("? = ?", bun.Safe(cols.Org), s.OrgID)
	case s.OrgID != 0 && cols.OrgIn != "":
		return q.Where("? IN (?)", s.OrgID, bun.Safe(cols.OrgIn))
	}
	return q.Where("FALSE")
}
