package seed

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"strings"

	"github.com/xuri/excelize/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/payouts"
	"tuoyu/modules/workers"
)

// demoPayable is how many payable claims in 武汉 the payouts demo needs:
// two for the paid batch (one of them returned by the bank), one for the
// draft, and one left payable, as the demo keeps a claim in every status.
const demoPayable = 4

// Payouts builds the payout part of the demo world (DESIGN §5.5) on
// the claims demo, through the services: it tops 武汉's payable claims up to
// demoPayable, gives every payable claim's worker a bank account, builds a
// first batch, moves some out, exports it, marks it paid, and takes one
// payment back from the bank (the returned claim); a second batch, a draft,
// holds one claim moved out and the last stays payable. It does nothing when
// a batch exists already, or when the claims demo left nothing payable.
func Payouts(ctx context.Context, s Services) error {
	approver, err := s.principal(ctx, "hr_approver1")
	if err != nil {
		return err
	}
	if _, n, err := s.Payouts.Batches(ctx, approver, "", 1, 0); err != nil || n > 0 {
		return err
	}
	admin, err := s.principal(ctx, "admin")
	if err != nil {
		return err
	}
	payable, err := s.Payouts.Payable(ctx, approver, "420100")
	if err != nil || len(payable) == 0 {
		return err
	}
	if len(payable) < demoPayable {
		if err := demoMorePayable(ctx, s, admin, demoPayable-len(payable)); err != nil {
			return err
		}
		if payable, err = s.Payouts.Payable(ctx, approver, "420100"); err != nil {
			return err
		}
	}
	banks := []string{"中国工商银行武汉分行", "中国建设银行武汉分行", "汉口银行", "湖北农信"}
	for i, c := range payable {
		w, err := s.Workers.ByID(ctx, admin, c.WorkerID)
		if err != nil {
			return err
		}
		if w.BankAccountMask != "" {
			continue
		}
		acct, bank := fmt.Sprintf("6217%015d", 420100_000_000_000+w.ID), banks[i%len(banks)]
		if _, err := s.Workers.UpdateProfile(ctx, admin, w.ID, workers.ProfileInput{BankAccount: &acct, BankName: &bank}); err != nil {
			return fmt.Errorf("demo bank account of worker %d: %w", w.ID, err)
		}
	}
	first, err := s.Payouts.CreateBatch(ctx, approver, "420100")
	if err != nil {
		return err
	}
	// Move the last two out of the first batch (one of them when there are
	// only two): they go to the draft, and one of those back to payable.
	keep := min(2, len(payable)-1)
	for _, c := range payable[len(payable)-keep:] {
		if _, err := s.Payouts.RemoveClaim(ctx, approver, first.ID, c.ID, "演示：材料待补，转入下一批次"); err != nil {
			return err
		}
	}
	var file bytes.Buffer
	if _, err := s.Payouts.Export(ctx, approver, first.ID, &file); err != nil {
		return err
	}
	today := s.Now().In(s.Location).Format(time.DateOnly)
	if _, err := s.Payouts.MarkPaid(ctx, approver, first.ID, payouts.PaidInput{PaidOn: today, BankReference: "HB" + s.Now().Format("20060102") + "0001"}); err != nil {
		return err
	}
	// The bank sends the first payment back: its line as the bank file has it.
	back, err := demoReturnFile(file.Bytes())
	if err != nil {
		return err
	}
	if _, err := s.Payouts.ImportReturns(ctx, approver, first.ID, back, "returns.csv"); err != nil {
		return err
	}
	if keep > 0 {
		draft, err := s.Payouts.CreateBatch(ctx, approver, "420100")
		if err != nil {
			return err
		}
		if keep > 1 {
			last := payable[len(payable)-1]
			if _, err := s.Payouts.RemoveClaim(ctx, approver, draft.ID, last.ID, "演示：银行账户待核实"); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoMorePayable makes n more claims in 武汉 payable through the claims
// service, on valid certificates nobody has claimed the training subsidy
// for. They are submitted and decided on a clock two weeks back (more than
// the 5 working days of 公示 outside the Spring Festival), so that their
// 公示 has ended today while the demo's claims in notice stay in notice;
// certificates now follow passes, so most of the demo's are recent.
func demoMorePayable(ctx context.Context, s Services, admin *accounts.Principal, n int) error {
	reviewer, err := s.principal(ctx, "hr_reviewer1")
	if err != nil {
		return err
	}
	approver, err := s.principal(ctx, "hr_approver2")
	if err != nil {
		return err
	}
	past := claims.NewService(s.DB, s.Subsidies, s.Calendar, s.Location, func() time.Time { return s.Now().AddDate(0, 0, -14) })
	certs, _, err := s.Certificates.List(ctx, admin, certificates.Filter{Status: certificates.StatusValid, Limit: 200})
	if err != nil {
		return err
	}
	made := 0
	for _, c := range certs {
		if made == n {
			break
		}
		if !strings.HasPrefix(c.RegionCode, "4201") || c.IssuedOn.After(s.Now().AddDate(0, 0, -15)) {
			continue
		}
		cl, _, err := past.Submit(ctx, reviewer, claims.SubmitInput{CertificateID: c.ID, Subsidy: "training"})
		if err != nil {
			continue // not eligible, or claimed already: try the next
		}
		if _, err := past.Review(ctx, reviewer, cl.ID, claims.Decision{Decision: "pass", Reason: "材料齐全"}); err != nil {
			return err
		}
		if _, err := past.Approve(ctx, approver, cl.ID, claims.Decision{Decision: "approve"}); err != nil {
			continue // a limit counted at approval: leave it reviewed
		}
		made++
	}
	_, err = s.Claims.EndNotices(ctx, s.Now())
	return err
}

// demoReturnFile makes a bank return list naming the first payment of a
// bank file.
func demoReturnFile(bankFile []byte) ([]byte, error) {
	f, err := excelize.OpenReader(bytes.NewReader(bankFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) < 3 {
		return nil, fmt.Errorf("demo bank file has no payment: %v", err)
	}
	return []byte("身份证号,金额,失败原因\n" + rows[1][1] + "," + rows[1][4] + ",账户已销户\n"), nil
}
