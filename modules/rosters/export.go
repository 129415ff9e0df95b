package rosters

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"tuoyu/modules/accounts"
	"tuoyu/modules/audit"
	"tuoyu/modules/tabular"
)

// ErrorsColumn is the column errors.csv adds to the rows as they came.
const ErrorsColumn = "错误"

// WriteErrorsCSV writes the invalid rows of import id as they came, with
// the header of the file and a column 错误 saying what is wrong, as UTF-8
// CSV with a byte-order mark, every cell neutralised. The rows are
// decrypted here, for the college that sent them. Errors: NotFound
// roster_not_found.
func (s *Service) WriteErrorsCSV(ctx context.Context, p *accounts.Principal, id int64, w io.Writer) (*Import, error) {
	st := NewStore(s.db)
	im, err := st.ByID(ctx, p, id)
	if err != nil {
		return nil, err
	}
	cw := tabular.NewCSVWriter(w)
	header := append(append([]string{}, im.Header...), ErrorsColumn)
	if err := cw.Write(header); err != nil {
		return nil, fmt.Errorf("write errors.csv header: %w", err)
	}
	width := len(im.Header)
	err = st.EachRow(ctx, im.ID, []string{OutcomeInvalid}, func(r Row) error {
		plain, err := s.cipher.Decrypt(r.RawEnc)
		if err != nil {
			return fmt.Errorf("decrypt roster row %d: %w", r.RowNum, err)
		}
		var cells []string
		if err := json.Unmarshal([]byte(plain), &cells); err != nil {
			return fmt.Errorf("decode roster row %d: %w", r.RowNum, err)
		}
		// Pad short rows so 错误 stays in its column.
		for len(cells) < width {
			cells = append(cells, "")
		}
		return cw.Write(append(cells, ErrorText(r)))
	})
	if err != nil {
		return nil, err
	}
	if err := cw.Flush(); err != nil {
		return nil, fmt.Errorf("write errors.csv: %w", err)
	}
	// The report holds the rows as uploaded, ID numbers in full: who
	// downloaded it is on the audit trail.
	if err := audit.Record(ctx, s.db, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "rosters.errors_download",
		TargetType: "roster_import", TargetID: strconv.FormatInt(im.ID, 10), Summary: map[string]any{"rows_invalid": im.RowsInvalid}}); err != nil {
		return nil, err
	}
	return im, nil
}

// ErrorText is a row's problems in one sentence: the row number, then
// "column: reason" for each.
func ErrorText(r Row) string {
	parts := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		parts[i] = e.Column + "：" + e.Message
	}
	return fmt.Sprintf("第 %d 行：%s", r.RowNum, strings.Join(parts, "；"))
}

// WriteTemplate writes the roster template: the header row with the ID
// number and phone columns formatted as text, so Excel keeps all 18 digits
// of an ID number typed into it. Errors: only those of writing the file.
func WriteTemplate(w io.Writer) error {
	cols := make([]tabular.XLSXColumn, len(templateColumns))
	header := make([]string, len(templateColumns))
	for i, c := range templateColumns {
		header[i] = Columns[c][0]
		cols[i] = tabular.XLSXColumn{Width: 12}
		switch c {
		case "id_number":
			cols[i] = tabular.XLSXColumn{Width: 22, Text: true}
		case "phone":
			cols[i] = tabular.XLSXColumn{Width: 15, Text: true}
		case "major", "plan_code":
			cols[i].Width = 16
		}
	}
	xw, err := tabular.NewXLSXWriter("花名册", cols)
	if err != nil {
		return err
	}
	if err := xw.Write(header); err != nil {
		xw.Close()
		return err
	}
	return xw.Finish(w)
}
