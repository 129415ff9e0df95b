// Package institutions keeps the registry of childcare institutions (托育机构)
// that regulators maintain: unified social credit code, kind, region, places
// and filing (备案) status. Workers name one as their employer.
//
// The registry is public information, so any logged-in user may read it
// (workers pick their employer from it); only regulators, in their region,
// and admins change it.
package institutions

import (
	"time"

	"github.com/uptrace/bun"
)

// Institution is one row of the institutions table.
type Institution struct {
	bun.BaseModel `bun:"table:institutions,alias:n"`

	ID             int64        `bun:"id,pk,autoincrement"`
	USCC           string       `bun:"uscc"`
	Name           string       `bun:"name"`
	Kind           Kind         `bun:"kind"`
	RegionCode     string       `bun:"region_code"`
	Address        string       `bun:"address"`
	Places         int          `bun:"places"`
	FilingStatus   FilingStatus `bun:"filing_status"`
	FiledOn        *time.Time   `bun:"filed_on,type:date"`
	RevokedOn      *time.Time   `bun:"revoked_on,type:date"`
	OrganisationID int64        `bun:"organisation_id,nullzero"`
	CreatedAt      time.Time    `bun:"created_at,nullzero,default:now()"`
	UpdatedAt      time.Time    `bun:"updated_at,nullzero,default:now()"`

	RegionName string `bun:"region_name,scanonly"`
}

// Kind is the ownership of an institution.
type Kind string

// Kinds of institution.
const (
	KindPublic    Kind = "public"
	KindNonProfit Kind = "non_profit"
	KindForProfit Kind = "for_profit"
)

// Kinds lists the kinds in the order forms show them.
var Kinds = []Kind{KindPublic, KindNonProfit, KindForProfit}

// Label is the Chinese name of the kind.
func (k Kind) Label() string {
	switch k {
	case KindPublic:
		return "公办"
	case KindNonProfit:
		return "民办非营利性"
	case KindForProfit:
		return "民办营利性"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindPublic || k == KindNonProfit || k == KindForProfit }

// FilingStatus is where an institution stands with its filing (备案).
type FilingStatus string

// Filing statuses.
const (
	FilingUnfiled FilingStatus = "unfiled"
	FilingFiled   FilingStatus = "filed"
	FilingRevoked FilingStatus = "revoked"
)

// FilingStatuses lists the statuses in the order forms show them.
var FilingStatuses = []FilingStatus{FilingUnfiled, FilingFiled, FilingRevoked}

// Label is the Chinese name of the status.
func (f FilingStatus) Label() string {
	switch f {
	case FilingUnfiled:
		return "未备案"
	case FilingFiled:
		return "已备案"
	case FilingRevoked:
		return "已撤销备案"
	}
	return string(f)
}

// Valid reports whether f is a known status.
func (f FilingStatus) Valid() bool {
	return f == FilingUnfiled || f == FilingFiled || f == FilingRevoked
}
