package rosters

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// copyRows stores rows with COPY on conn (the connection the caller's
// transaction runs on). A multi-row INSERT of roster rows is dominated by
// PostgreSQL parsing megabytes of literals; COPY is several times faster,
// which matters for a 200 000-row file (DESIGN §11).
func copyRows(ctx context.Context, conn bun.Conn, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRowsCopy(pw, rows)) }()
	_, err := pgdriver.CopyFrom(ctx, conn, pr, `COPY roster_rows (import_id, row_num, cells, raw_enc, name,
		id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code, phone_enc, phone_idx, phone_mask,
		education, major, graduation_year, plan_code, errors, outcome, diff, worker_id) FROM STDIN`)
	pr.Close()
	if err != nil {
		return fmt.Errorf("copy roster rows: %w", err)
	}
	return nil
}

// writeRowsCopy writes rows in COPY text format: tab-separated, \N for
// NULL, backslash escapes, bytea as \\x hex.
func writeRowsCopy(w io.Writer, rows []Row) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
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
		line = strconv.AppendInt(line[:0], r.ImportID, 10)
		line = strconv.AppendInt(append(line, '\t'), int64(r.RowNum), 10)
		line = copyText(append(line, '\t'), string(cells), false)
		line = copyBytea(append(line, '\t'), r.RawEnc)
		line = copyText(append(line, '\t'), r.Name, false)
		line = copyBytea(append(line, '\t'), r.IDNumberEnc)
		line = copyBytea(append(line, '\t'), r.IDNumberIdx)
		line = copyText(append(line, '\t'), r.IDMask, false)
		line = copyText(append(line, '\t'), string(r.Sex), r.Sex == "")
		if r.BirthDate == nil {
			line = append(line, "\t\\N"...)
		} else {
			line = append(append(line, '\t'), r.BirthDate.Format(time.DateOnly)...)
		}
		line = copyText(append(line, '\t'), r.IDAreaCode, r.IDAreaCode == "")
		line = copyBytea(append(line, '\t'), r.PhoneEnc)
		line = copyBytea(append(line, '\t'), r.PhoneIdx)
		line = copyText(append(line, '\t'), r.PhoneMask, false)
		line = copyText(append(line, '\t'), string(r.Education), r.Education == "")
		line = copyText(append(line, '\t'), r.Major, false)
		if r.GraduationYear == 0 {
			line = append(line, "\t\\N"...)
		} else {
			line = strconv.AppendInt(append(line, '\t'), int64(r.GraduationYear), 10)
		}
		line = copyText(append(line, '\t'), r.PlanCode, false)
		line = copyText(append(line, '\t'), string(errs), false)
		line = copyText(append(line, '\t'), r.Outcome, false)
		line = copyText(append(line, '\t'), string(diff), false)
		if r.WorkerID == 0 {
			line = append(line, "\t\\N"...)
		} else {
			line = strconv.AppendInt(append(line, '\t'), r.WorkerID, 10)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

var copyEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

func copyText(b []byte, s string, null bool) []byte {
	if null {
		return append(b, `\N`...)
	}
	if !strings.ContainsAny(s, "\\\t\n\r") {
		return append(b, s...)
	}
	return append(b, copyEscaper.Replace(s)...)
}

func copyBytea(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, `\N`...)
	}
	return hex.AppendEncode(append(b, `\\x`...), v)
}
