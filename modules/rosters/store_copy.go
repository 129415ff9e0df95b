package rosters

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/pg"
)

// copyRows stores rows with COPY on conn (the connection the caller's
// transaction runs on). A multi-row INSERT of roster rows is dominated by
// PostgreSQL parsing megabytes of literals; COPY is several times faster,
// which matters for a 200 000-row file (DESIGN §11).
func copyRows(ctx context.Context, conn bun.Conn, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	err := pg.CopyFrom(ctx, conn, `COPY roster_rows (import_id, row_num, cells, raw_enc, name,
		id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code, phone_enc, phone_idx, phone_mask,
		education, major, graduation_year, plan_code, errors, outcome, diff, worker_id) FROM STDIN`,
		func(w *pg.CopyWriter) error { return writeRowsCopy(w, rows) })
	if err != nil {
		return fmt.Errorf("copy roster rows: %w", err)
	}
	return nil
}

// writeRowsCopy writes rows in the column order of copyRows.
func writeRowsCopy(w *pg.CopyWriter, rows []Row) error {
	for _, r := range rows {
		cells, err := json.Marshal(r.Cells)
		if err != nil {
			return err
		}
		errs, err := json.Marshal(r.Errors)
		if err != nil {
			return err
		}
		diff, err := json.Marshal(r.Diff)
		if err != nil {
			return err
		}
		w.Int(r.ImportID)
		w.Int(int64(r.RowNum))
		w.Text(string(cells))
		w.Bytea(r.RawEnc)
		w.Text(r.Name)
		w.Bytea(r.IDNumberEnc)
		w.Bytea(r.IDNumberIdx)
		w.Text(r.IDMask)
		w.NullText(string(r.Sex), r.Sex == "")
		w.Date(r.BirthDate)
		w.NullText(r.IDAreaCode, r.IDAreaCode == "")
		w.Bytea(r.PhoneEnc)
		w.Bytea(r.PhoneIdx)
		w.Text(r.PhoneMask)
		w.NullText(string(r.Education), r.Education == "")
		w.Text(r.Major)
		w.NullInt(int64(r.GraduationYear))
		w.Text(r.PlanCode)
		w.Text(string(errs))
		w.Text(r.Outcome)
		w.Text(string(diff))
		w.NullInt(r.WorkerID)
		if err := w.End(); err != nil {
			return err
		}
	}
	return nil
}
