package app

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"

	"tuoyu/modules/payouts"
	"tuoyu/modules/workers"
)

// seedDemoPayouts builds the payout part of the demo world (DESIGN §5.5) on
// the claims demo, through the services: every payable claim's worker in 武汉
// gets a bank account; a first batch is built, a third of it moved out,
// exported, paid, and one payment comes back from the bank (the returned
// claim); a second batch, a draft, holds what was moved out. It does
// nothing when a batch exists already, or when the claims demo left nothing
// payable.
func (a *App) seedDemoPayouts(ctx context.Context) error {
	approver, err := a.Accounts.PrincipalByUsername(ctx, "hr_approver1")
	if err != nil {
		return err
	}
	if _, n, err := a.Payouts.Batches(ctx, &approver, "", 1, 0); err != nil || n > 0 {
		return err
	}
	admin, err := a.Accounts.PrincipalByUsername(ctx, "admin")
	if err != nil {
		return err
	}
	payable, err := a.Payouts.Payable(ctx, &approver, "420100")
	if err != nil || len(payable) == 0 {
		return err
	}
	banks := []string{"中国工商银行武汉分行", "中国建设银行武汉分行", "汉口银行", "湖北农信"}
	for i, c := range payable {
		w, err := a.Workers.ByID(ctx, &admin, c.WorkerID)
		if err != nil {
			return err
		}
		if w.BankAccountMask != "" {
			continue
		}
		acct, bank := fmt.Sprintf("6217%015d", 420100_000_000_000+w.ID), banks[i%len(banks)]
		if _, err := a.Workers.UpdateProfile(ctx, &admin, w.ID, workers.ProfileInput{BankAccount: &acct, BankName: &bank}); err != nil {
			return fmt.Errorf("demo bank account of worker %d: %w", w.ID, err)
		}
	}
	first, err := a.Payouts.CreateBatch(ctx, &approver, "420100")
	if err != nil {
		return err
	}
	// Keep a third for the second batch (at least one when there are two).
	keep := len(payable) / 3
	if keep == 0 && len(payable) >= 2 {
		keep = 1
	}
	for _, c := range payable[len(payable)-keep:] {
		if _, err := a.Payouts.RemoveClaim(ctx, &approver, first.ID, c.ID, "演示：材料待补，转入下一批次"); err != nil {
			return err
		}
	}
	var file bytes.Buffer
	if _, err := a.Payouts.Export(ctx, &approver, first.ID, &file); err != nil {
		return err
	}
	today := a.Now().In(a.Config.Location).Format(time.DateOnly)
	if _, err := a.Payouts.MarkPaid(ctx, &approver, first.ID, payouts.PaidInput{PaidOn: today, BankReference: "HB" + a.Now().Format("20060102") + "0001"}); err != nil {
		return err
	}
	// The bank sends the first payment back: its line as the bank file has it.
	back, err := demoReturnFile(file.Bytes())
	if err != nil {
		return err
	}
	if _, err := a.Payouts.ImportReturns(ctx, &approver, first.ID, back, "returns.csv"); err != nil {
		return err
	}
	if keep > 0 {
		if _, err := a.Payouts.CreateBatch(ctx, &approver, "420100"); err != nil {
			return err
		}
	}
	return nil
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
