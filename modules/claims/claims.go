// Package claims owns subsidy claims (补贴申请): eligibility built from the
// facts on file (DESIGN §6.5), a claim per certificate and subsidy with its
// evaluation frozen, review and four-eyes approval, the public notice (公示)
// on the working-day calendar, the nightly refresh that proposes claims
// nobody has made (免申即享), and the social-insurance months import.
//
// The rules themselves live in package subsidies (pure); this package
// loads the facts, maps them to a situation, and decides inside
// transactions that lock the person, so two approvals cannot together pass
// a limit.
package claims

import (
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/subsidies"
)

// Status is where a claim stands (DESIGN §5.4 claim status row).
type Status string

// Claim statuses: submitted → reviewed → notice → payable → batched → paid;
// rejected from submitted, reviewed or notice; returned when the bank sends
// a payment back (payouts moves batched, paid and returned claims).
const (
	StatusSubmitted Status = "submitted"
	StatusReviewed  Status = "reviewed"
	StatusNotice    Status = "notice"
	StatusPayable   Status = "payable"
	StatusBatched   Status = "batched"
	StatusPaid      Status = "paid"
	StatusRejected  Status = "rejected"
	StatusReturned  Status = "returned"
)

// Statuses lists every status, in the order of the flow.
var Statuses = []Status{StatusSubmitted, StatusReviewed, StatusNotice, StatusPayable, StatusBatched,
	StatusPaid, StatusRejected, StatusReturned}

// counted are the statuses whose claims count as paid for the limits and
// "once" rules (DESIGN §6.4: approved and paid claims, any region).
var counted = []Status{StatusNotice, StatusPayable, StatusBatched, StatusPaid, StatusReturned}

// live are the statuses a ban rejects: not yet paid out or batched.
var live = []Status{StatusSubmitted, StatusReviewed, StatusNotice, StatusPayable}

var statusLabels = map[Status]string{
	StatusSubmitted: "待初审", StatusReviewed: "待复核", StatusNotice: "公示中", StatusPayable: "待拨付",
	StatusBatched: "拨付中", StatusPaid: "已拨付", StatusRejected: "未通过", StatusReturned: "银行退回",
}

// Label is the Chinese name of s.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// Valid reports whether s is a status.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Reason codes of a rejection, shown to the worker with the text.
const (
	ReasonNotEligible = "not_eligible"
	ReasonDocuments   = "documents"
	ReasonObjection   = "objection"
	ReasonBanned      = "banned"
	ReasonOther       = "other"
)

// ReasonCodes are the codes a reviewer or approver may give (banned comes
// from a ban only).
var ReasonCodes = []string{ReasonNotEligible, ReasonDocuments, ReasonObjection, ReasonOther}

var reasonLabels = map[string]string{
	ReasonNotEligible: "不符合申领条件", ReasonDocuments: "材料不全或不实", ReasonObjection: "公示期间有异议",
	ReasonBanned: "已被列入终身禁入名单", ReasonOther: "其他原因",
}

// ReasonLabel is the Chinese name of a rejection reason code.
func ReasonLabel(code string) string { return reasonLabels[code] }

// Claim is one row of the claims table.
type Claim struct {
	bun.BaseModel `bun:"table:claims,alias:cl"`

	ID            int64           `bun:"id,pk,autoincrement"`
	WorkerID      int64           `bun:"worker_id"`
	CertificateID int64           `bun:"certificate_id"`
	Subsidy       string          `bun:"subsidy"`
	Status        Status          `bun:"status"`
	RegionCode    string          `bun:"region_code"`
	AmountYuan    int64           `bun:"amount_yuan"`
	EvalStatus    string          `bun:"eval_status"`
	PolicyVersion string          `bun:"policy_version"`
	Snapshot      json.RawMessage `bun:"snapshot,type:jsonb"`
	Changes       json.RawMessage `bun:"changes,type:jsonb,nullzero"`
	ReevaluatedAt *time.Time      `bun:"reevaluated_at"`
	SubmittedAt   time.Time       `bun:"submitted_at"`
	SubmittedBy   int64           `bun:"submitted_by"`
	OnBehalf      bool            `bun:"on_behalf"`
	FromProposal  bool            `bun:"from_proposal"`
	ReviewerID    int64           `bun:"reviewer_id,nullzero"`
	ReviewedAt    *time.Time      `bun:"reviewed_at"`
	ReviewNote    string          `bun:"review_note"`
	ApproverID    int64           `bun:"approver_id,nullzero"`
	ApprovedAt    *time.Time      `bun:"approved_at"`
	ApprovedOn    *time.Time      `bun:"approved_on,type:date"`
	NoticeEndsOn  *time.Time      `bun:"notice_ends_on,type:date"`
	PayableAt     *time.Time      `bun:"payable_at"`
	PaidOn        *time.Time      `bun:"paid_on,type:date"`
	RejectedAt    *time.Time      `bun:"rejected_at"`
	RejectedBy    int64           `bun:"rejected_by,nullzero"`
	RejectCode    string          `bun:"reject_code,nullzero"`
	RejectReason  string          `bun:"reject_reason"`
	UpdatedAt     time.Time       `bun:"updated_at,nullzero,default:now()"`

	// Joined in by lists and ByID for display; never written.
	WorkerName        string    `bun:"worker_name,scanonly"`
	CertificateNumber string    `bun:"certificate_number,scanonly"`
	Occupation        string    `bun:"occupation,scanonly"`
	Level             *int      `bun:"level,scanonly"`
	IssuedOn          time.Time `bun:"issued_on,scanonly"`
}

// SubsidyLabel is the Chinese name of the claim's subsidy.
func (c *Claim) SubsidyLabel() string { return subsidies.SubsidyName(c.Subsidy) }

// ReasonLabel is the Chinese name of the claim's rejection reason.
func (c *Claim) ReasonLabel() string { return ReasonLabel(c.RejectCode) }

// Snapshot is the whole evaluation frozen with a claim: the situation
// built from stored facts, the parameters in force (values and references),
// the result with every check, and the policy version.
type Snapshot struct {
	EvaluatedAt time.Time           `json:"evaluated_at"`
	Situation   subsidies.Situation `json:"inputs"`
	// TargetGroups repeats inputs.person.groups without omitempty: null
	// (never asked) and [] (none of the six) must stay apart.
	TargetGroups  []string          `json:"target_groups"`
	Parameters    []subsidies.Param `json:"parameters"`
	Result        subsidies.Result  `json:"result"`
	PolicyVersion string            `json:"policy_version"`
	// Unknown lists the facts the reviewer must settle (checks that are unknown).
	Unknown []subsidies.Check `json:"unknown_checks"`
	// Sources says who supplied each person fact (worker, hr_import, hr_reviewer).
	Sources map[string]string `json:"fact_sources"`
}

// Change is one field that differs between the frozen snapshot and a
// re-evaluation.
type Change struct {
	Field  string `json:"field"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// Changes is the re-evaluation stored with a claim.
type Changes struct {
	EvaluatedAt time.Time `json:"evaluated_at"`
	Stage       string    `json:"stage"` // review, approve
	Fields      []Change  `json:"fields"`
}
