// Package claimstest helps tests of modules above claims (payouts) that
// need claims in a given state without walking the whole review, approval
// and 公示 flow: it records an external certificate through the
// certificates service and stores the claim as the flow leaves it (the
// claims table written directly: this package is the claims store of tests).
package claimstest

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/certificates"
)

// Kit makes claims on one database.
type Kit struct {
	DB       *bun.DB
	Certs    *certificates.Service
	Admin    *accounts.Principal // records the certificates
	Reviewer int64               // user ids of the two deciders (different people)
	Approver int64
}

// NewKit returns a kit on db. admin records the certificates; reviewer and
// approver are two different users.
func NewKit(t testing.TB, db *bun.DB, admin *accounts.Principal, reviewer, approver int64) *Kit {
	t.Helper()
	signer, err := certificates.NewSigner(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	certs := certificates.NewService(certificates.Config{DB: db, Signer: signer, Renderer: certificates.NewRenderer(""),
		BaseURL: "http://localhost:8080", Now: time.Now})
	return &Kit{DB: db, Certs: certs, Admin: admin, Reviewer: reviewer, Approver: approver}
}

var seq atomic.Int64

// Claim stores a claim of worker workerID for amount yuan in region, in
// status (payable, or any later payout status), submitted at submitted and
// approved a day later, on a new external certificate of the worker. It
// returns the claim id.
func (k *Kit) Claim(t testing.TB, workerID int64, region, subsidy, status string, amount int64, submitted time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	level := 4
	cert, err := k.Certs.RecordExternal(ctx, k.Admin, workerID, certificates.ExternalInput{Kind: "skill",
		Number: fmt.Sprintf("T%d-%d", time.Now().UnixNano(), seq.Add(1)), Occupation: "4-10-01-03", Level: &level,
		IssuedOn: submitted.AddDate(0, -1, 0).Format(time.DateOnly), Issuer: "测试评价机构"})
	if err != nil {
		t.Fatalf("claimstest: certificate: %v", err)
	}
	var approvedAt, approvedOn, noticeEnds, paidOn any
	switch status {
	case "submitted", "reviewed", "rejected":
	default:
		approvedAt = submitted.AddDate(0, 0, 1)
		approvedOn = submitted.AddDate(0, 0, 1).Format(time.DateOnly)
		noticeEnds = submitted.AddDate(0, 0, 8).Format(time.DateOnly)
	}
	if status == "paid" {
		paidOn = submitted.AddDate(0, 0, 20).Format(time.DateOnly)
	}
	var reviewer, reviewedAt any
	if status != "submitted" && status != "rejected" {
		reviewer, reviewedAt = k.Reviewer, submitted
	}
	var approver any
	if approvedAt != nil {
		approver = k.Approver
	}
	var rejectCode, rejectedAt any
	if status == "rejected" {
		rejectCode, rejectedAt = "other", submitted.AddDate(0, 0, 1)
	}
	var id int64
	err = k.DB.NewRaw(`INSERT INTO claims (worker_id, certificate_id, subsidy, status, region_code, amount_yuan, eval_status,
			policy_version, snapshot, submitted_at, submitted_by, reviewer_id, reviewed_at, approver_id, approved_at, approved_on,
			notice_ends_on, paid_on, reject_code, rejected_at)
		VALUES (?, ?, ?, ?, ?, ?, 'eligible', 'test', '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		workerID, cert.ID, subsidy, status, region, amount, submitted, k.Admin.UserID, reviewer, reviewedAt,
		approver, approvedAt, approvedOn, noticeEnds, paidOn, rejectCode, rejectedAt).Scan(ctx, &id)
	if err != nil {
		t.Fatalf("claimstest: claim: %v", err)
	}
	return id
}
