package payouts

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"tuoyu/modules/tabular"
)

// BankHeader is the header row of the bank file, in the order the bank's
// upload template expects. The return file the bank sends back uses the same
// names for the columns it keeps.
var BankHeader = []string{"姓名", "身份证号", "社保卡/银行账号", "开户行", "金额(元)", "补贴类别", "批次号"}

// bankSheet is the worksheet name of the bank file.
const bankSheet = "拨付明细"

// BankRow is one payment in the bank file: the only place where a worker's
// ID number and account appear in clear.
type BankRow struct {
	Name       string
	IDNumber   string
	Account    string
	BankName   string
	AmountYuan int64
	Subsidy    string // Chinese name of the subsidy
	BatchNo    string
}

// BankFile streams the bank file of one batch: a header, one row per claim,
// then a totals row whose amount is the sum of the rows written. It uses
// excelize's stream writer, so 10 000 rows never sit in memory as cells.
type BankFile struct {
	f     *excelize.File
	sw    *excelize.StreamWriter
	text  int
	money int
	bold  int
	row   int
	count int
	total int64
	vals  []any
}

// NewBankFile starts a bank file. Close it if Finish is not reached.
func NewBankFile() (*BankFile, error) {
	f := excelize.NewFile()
	fail := func(what string, err error) (*BankFile, error) {
		f.Close()
		return nil, fmt.Errorf("bank file %s: %w", what, err)
	}
	if err := f.SetSheetName("Sheet1", bankSheet); err != nil {
		return fail("sheet", err)
	}
	// Text format (49 = "@") keeps ID numbers and accounts as typed: as
	// numbers Excel would show 4.20106E+17 and lose the last digits.
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return fail("text style", err)
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 1}) // "0": whole yuan
	if err != nil {
		return fail("money style", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 1})
	if err != nil {
		return fail("bold style", err)
	}
	sw, err := f.NewStreamWriter(bankSheet)
	if err != nil {
		return fail("stream", err)
	}
	b := &BankFile{f: f, sw: sw, text: text, money: money, bold: bold}
	for i, w := range []float64{12, 22, 26, 24, 12, 16, 22} {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return fail("width", err)
		}
	}
	head := make([]any, len(BankHeader))
	for i, h := range BankHeader {
		head[i] = excelize.Cell{Value: h, StyleID: bold}
	}
	if err := b.put(head); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *BankFile) put(vals []any) error {
	b.row++
	ref, err := excelize.CoordinatesToCellName(1, b.row)
	if err != nil {
		return fmt.Errorf("bank file row %d: %w", b.row, err)
	}
	if err := b.sw.SetRow(ref, vals); err != nil {
		return fmt.Errorf("bank file row %d: %w", b.row, err)
	}
	return nil
}

// textCell is a neutralised text cell: a value a spreadsheet would run as a
// formula (= + - @, tab, CR first) is shown as text instead.
func (b *BankFile) textCell(s string) excelize.Cell {
	return excelize.Cell{Value: tabular.Neutralise(s), StyleID: b.text}
}

// Add writes one payment. The amount must be positive (the database
// guarantees it; a zero here would be a bug upstream).
func (b *BankFile) Add(r BankRow) error {
	if r.AmountYuan <= 0 {
		return fmt.Errorf("bank file: amount %d of %s is not positive", r.AmountYuan, r.BatchNo)
	}
	b.vals = append(b.vals[:0],
		b.textCell(r.Name), b.textCell(r.IDNumber), b.textCell(r.Account), b.textCell(r.BankName),
		excelize.Cell{Value: r.AmountYuan, StyleID: b.money}, b.textCell(r.Subsidy), b.textCell(r.BatchNo))
	if err := b.put(b.vals); err != nil {
		return err
	}
	b.count++
	b.total += r.AmountYuan
	return nil
}

// Finish writes the totals row (合计, the number of payments and the sum of
// their amounts) and the workbook to out, and returns what it totalled.
func (b *BankFile) Finish(out io.Writer) (count int, total int64, err error) {
	defer b.f.Close()
	totals := []any{
		excelize.Cell{Value: "合计", StyleID: b.bold}, excelize.Cell{Value: fmt.Sprintf("共 %d 笔", b.count), StyleID: b.bold},
		nil, nil, excelize.Cell{Value: b.total, StyleID: b.bold}, nil, nil,
	}
	if err := b.put(totals); err != nil {
		return 0, 0, err
	}
	if err := b.sw.Flush(); err != nil {
		return 0, 0, fmt.Errorf("flush bank file: %w", err)
	}
	if _, err := b.f.WriteTo(out); err != nil {
		return 0, 0, fmt.Errorf("write bank file: %w", err)
	}
	return b.count, b.total, nil
}

// Close releases the workbook without writing it.
func (b *BankFile) Close() error { return b.f.Close() }
