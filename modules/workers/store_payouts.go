package workers

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/pii"
)

// This file serves the payouts module: bulk reads of the workers a batch
// pays and the one decryption of their bank details, for the bank file.

// ByIDs returns the workers with the given ids, whoever asks (the caller has
// decided the use: a batch in its scope). Missing ids are simply absent.
func (s Store) ByIDs(ctx context.Context, ids []int64) ([]Worker, error) {
	var out []Worker
	if len(ids) == 0 {
		return out, nil
	}
	if err := s.db.NewSelect().Model(&out).Where("w.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("select %d workers: %w", len(ids), err)
	}
	return out, nil
}

// BankAccounts is a sub-query of the workers who have a bank account on
// file, with its blind index (id, bank_account_idx): payouts compares it
// with the account the bank returned money from.
func BankAccounts(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("workers AS wa").Column("wa.id", "wa.bank_account_idx").
		Where("wa.bank_account_idx IS NOT NULL")
}

// WithoutBankAccount is a sub-query of the ids of workers who have no bank
// account on file (payouts lists them as blocking a batch).
func WithoutBankAccount(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("workers AS wb").Column("wb.id").Where("wb.bank_account_enc IS NULL")
}

// IDNumberIndex is the blind index of an ID number as stored, for matching
// a file that names people by ID number.
func (s *Service) IDNumberIndex(idNumber string) []byte {
	return s.cipher.Index(pii.KindIDNumber, idNumber)
}

// BankAccountIndex is the blind index of a bank account as stored.
func (s *Service) BankAccountIndex(account string) []byte {
	return s.cipher.Index(pii.KindBank, account)
}

// RevealForBank decrypts the ID number and bank account of w for the bank
// file of a payout batch, the one place they leave the system in clear. The
// caller audits the download; nothing here logs them.
func (s *Service) RevealForBank(w *Worker) (idNumber, account string, err error) {
	if idNumber, err = s.cipher.Decrypt(w.IDNumberEnc); err != nil {
		return "", "", fmt.Errorf("decrypt id number of worker %d: %w", w.ID, err)
	}
	if account, err = s.cipher.Decrypt(w.BankAccountEnc); err != nil {
		return "", "", fmt.Errorf("decrypt bank account of worker %d: %w", w.ID, err)
	}
	return idNumber, account, nil
}
