// Package payouts pays approved subsidy claims (DESIGN §4.5, §5.4): HR
// approvers gather a region's payable claims into a batch, download the file
// the bank needs (the one place where ID numbers and accounts leave the
// system in clear), mark the batch paid exactly once, and take back what the
// bank could not pay. It also draws the HR overview: figures by month and by
// city or county, with budgets an admin sets per region and year.
//
// The database keeps the money rules: a claim is included in at most one
// batch at a time (partial unique index), amounts are positive whole yuan,
// a batch's totals are kept by a trigger in the statement that changes an
// item, and "paid" is a conditional update that only one caller can win.
// Claim status changes are writes to the claims module's table, made through
// its exported store methods inside this module's transactions.
package payouts

import (
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Status is where a batch is: draft → exported → paid.
type Status string

// Batch statuses.
const (
	StatusDraft    Status = "draft"
	StatusExported Status = "exported"
	StatusPaid     Status = "paid"
)

// Label is the Chinese name of s.
func (s Status) Label() string {
	switch s {
	case StatusDraft:
		return "草稿"
	case StatusExported:
		return "已导出"
	case StatusPaid:
		return "已拨付"
	}
	return string(s)
}

// ItemStatus is where one claim of a batch is.
type ItemStatus string

// Item statuses: included (to be paid, or paid once the batch is), removed
// from a draft, returned by the bank.
const (
	ItemIncluded ItemStatus = "included"
	ItemRemoved  ItemStatus = "removed"
	ItemReturned ItemStatus = "returned"
)

// Label is the Chinese name of s.
func (s ItemStatus) Label() string {
	switch s {
	case ItemIncluded:
		return "在批次中"
	case ItemRemoved:
		return "已移出"
	case ItemReturned:
		return "银行退回"
	}
	return string(s)
}

// Batch is one payout batch.
type Batch struct {
	bun.BaseModel `bun:"table:payout_batches,alias:pb"`

	ID             int64      `bun:"id,pk,autoincrement"`
	RegionCode     string     `bun:"region_code"`
	Status         Status     `bun:"status"`
	Claims         int        `bun:"claims"`
	TotalYuan      int64      `bun:"total_yuan"`
	ReturnedClaims int        `bun:"returned_claims"`
	ReturnedYuan   int64      `bun:"returned_yuan"`
	CreatedBy      int64      `bun:"created_by"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,default:now()"`
	ExportedAt     *time.Time `bun:"exported_at"`
	ExportedBy     int64      `bun:"exported_by,nullzero"`
	Exports        int        `bun:"exports"`
	PaidOn         *time.Time `bun:"paid_on,type:date"`
	BankReference  *string    `bun:"bank_reference"`
	PaidAt         *time.Time `bun:"paid_at"`
	PaidBy         int64      `bun:"paid_by,nullzero"`

	RegionName string `bun:"region_name,scanonly"`
}

// Number is the batch number (批次号) printed in the bank file:
// ZF, the region code, a dash and the id.
func (b *Batch) Number() string { return fmt.Sprintf("ZF%s-%06d", b.RegionCode, b.ID) }

// PaidClaims is the number of claims paid and not returned.
func (b *Batch) PaidClaims() int {
	if b.Status != StatusPaid {
		return 0
	}
	return b.Claims - b.ReturnedClaims
}

// PaidYuan is the amount paid and not returned.
func (b *Batch) PaidYuan() int64 {
	if b.Status != StatusPaid {
		return 0
	}
	return b.TotalYuan - b.ReturnedYuan
}

// Item is one claim in a batch.
type Item struct {
	bun.BaseModel `bun:"table:payout_batch_items,alias:pi"`

	ID            int64      `bun:"id,pk,autoincrement"`
	BatchID       int64      `bun:"batch_id"`
	ClaimID       int64      `bun:"claim_id"`
	WorkerID      int64      `bun:"worker_id"`
	RegionCode    string     `bun:"region_code"`
	Subsidy       string     `bun:"subsidy"`
	AmountYuan    int64      `bun:"amount_yuan"`
	Status        ItemStatus `bun:"status"`
	RemovedReason *string    `bun:"removed_reason"`
	RemovedBy     int64      `bun:"removed_by,nullzero"`
	RemovedAt     *time.Time `bun:"removed_at"`
	AccountIdx    []byte     `bun:"account_idx"`
	ReturnReason  *string    `bun:"return_reason"`
	ReturnedAt    *time.Time `bun:"returned_at"`
	ReleasedAt    *time.Time `bun:"released_at"`
	CreatedAt     time.Time  `bun:"created_at,nullzero,default:now()"`
}

// Budget is the subsidy budget of a region for a year.
type Budget struct {
	bun.BaseModel `bun:"table:payout_budgets,alias:bg"`

	ID         int64     `bun:"id,pk,autoincrement"`
	RegionCode string    `bun:"region_code"`
	Year       int       `bun:"year"`
	AmountYuan int64     `bun:"amount_yuan"`
	Note       string    `bun:"note"`
	SetBy      int64     `bun:"set_by"`
	SetAt      time.Time `bun:"set_at,nullzero,default:now()"`

	RegionName string `bun:"region_name,scanonly"`
}

// subsidyLabels are the Chinese names of the subsidies, for the bank file.
var subsidyLabels = map[string]string{
	"skill_upgrade": "技能提升补贴",
	"training":      "职业培训补贴",
	"appraisal":     "技能评价补贴",
}

// SubsidyLabel is the Chinese name of a subsidy code.
func SubsidyLabel(code string) string {
	if l, ok := subsidyLabels[code]; ok {
		return l
	}
	return code
}
