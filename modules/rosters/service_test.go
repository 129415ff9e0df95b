package rosters_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/bans"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/rosters"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var testNow = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

type world struct {
	db        *bun.DB
	svc       *rosters.Service
	bans      *bans.Service
	collegeA  *accounts.Principal // 武汉
	collegeB  *accounts.Principal // 宜昌
	regulator *accounts.Principal
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := dbtest.DB(t)
	ctx := context.Background()
	cipher := workerstest.Cipher(t)
	clock := func() time.Time { return testNow }
	cat := catalog.NewService(db)
	if err := cat.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	enr := enrolment.NewService(db, classes.NewService(db, cat, enrolment.Membership, clock, nil), cat, cipher)
	w := &world{db: db, bans: bans.NewService(db, cipher, enr, clock, nil)}
	w.svc = rosters.NewService(db, cipher, w.bans, cat, enr, clock, nil)
	t.Cleanup(w.svc.Close)
	orgA := workerstest.Org(t, db, "college", "420100")
	orgB := workerstest.Org(t, db, "college", "420500")
	w.collegeA = workerstest.Staff(t, db, accounts.RoleCollege, orgA, "420100")
	w.collegeA.OrgName = "甲学院"
	w.collegeB = workerstest.Staff(t, db, accounts.RoleCollege, orgB, "420500")
	w.regulator = workerstest.Staff(t, db, accounts.RoleRegulator, workerstest.Org(t, db, "regulator", "420000"), "420000")
	return w
}

// person is one roster line.
type person struct {
	name, id, sex, phone, edu, major, year, plan string
}

func (p person) line() string {
	return strings.Join([]string{p.name, p.id, p.sex, p.phone, p.edu, p.major, p.year, p.plan}, ",")
}

const header = "姓名,身份证号,性别,手机号,学历,专业,毕业年份,培训计划编号"

func csvOf(people ...person) string {
	var b strings.Builder
	b.WriteString(header + "\r\n")
	for _, p := range people {
		b.WriteString(p.line() + "\r\n")
	}
	return b.String()
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sexOf is the sex an ID number states, as a roster writes it.
func sexOf(t *testing.T, id string) string {
	r, err := workers.ValidateID(id, testNow)
	if err != nil {
		t.Fatalf("test ID %s: %v", id, err)
	}
	return r.Sex.Label()
}

// nameSeq makes names unique across the package's tests, which share a
// database.
var nameSeq atomic.Int32

func newPerson(t *testing.T, i int) person {
	id := workerstest.IDNumber("420106")
	name := "学员" + string(rune(0x4E00+nameSeq.Add(1)))
	return person{name: name, id: id, sex: sexOf(t, id),
		phone: fmt.Sprintf("1381234%04d", i), edu: "大专", major: "早期教育", year: "2026"}
}

func (w *world) upload(t *testing.T, p *accounts.Principal, name string, data []byte, mode string) *rosters.Import {
	t.Helper()
	im, err := w.svc.Upload(context.Background(), p, rosters.UploadInput{FileName: name, Data: data, Mode: mode})
	if err != nil {
		t.Fatalf("Upload(%s): %v", name, err)
	}
	return im
}

func (w *world) commit(t *testing.T, p *accounts.Principal, id int64) *rosters.Import {
	t.Helper()
	im, err := w.svc.Commit(context.Background(), p, id)
	if err != nil {
		t.Fatalf("Commit(%d): %v", id, err)
	}
	return im
}

type counts struct{ Total, Valid, Invalid, New, Changed, Unchanged int }

func countsOf(im *rosters.Import) counts {
	return counts{im.RowsTotal, im.RowsValid, im.RowsInvalid, im.RowsNew, im.RowsChanged, im.RowsUnchanged}
}

func (w *world) count(t *testing.T, table string) int {
	t.Helper()
	n, err := w.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// rowErrors maps row number → error codes of an import's invalid rows.
func (w *world) rowErrors(t *testing.T, p *accounts.Principal, id int64) map[int][]string {
	t.Helper()
	rows, _, err := w.svc.Rows(context.Background(), p, id, []string{rosters.OutcomeInvalid}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int][]string{}
	for _, r := range rows {
		for _, e := range r.Errors {
			out[r.RowNum] = append(out[r.RowNum], e.Code)
		}
	}
	return out
}

func TestSameGBKRosterTwice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var people []person
	for i := range 5 {
		people = append(people, newPerson(t, i))
	}
	bad := people[0]
	bad.id = bad.id[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", bad.id[17])+1)%11])
	file := gbk(t, csvOf(append(people, bad, people[1])...)) // a bad check character and a duplicate

	first := w.upload(t, w.collegeA, "2026届.csv", file, "")
	if first.Encoding != "gbk" || first.Status != rosters.StatusValidated {
		t.Fatalf("encoding %s status %s", first.Encoding, first.Status)
	}
	if got, want := countsOf(first), (counts{7, 5, 2, 5, 0, 0}); got != want {
		t.Fatalf("first preview %+v, want %+v", got, want)
	}
	errs := w.rowErrors(t, w.collegeA, first.ID)
	if fmt.Sprint(errs) != fmt.Sprint(map[int][]string{7: {workers.CodeIDChecksum}, 8: {rosters.CodeDuplicate}}) {
		t.Errorf("row errors %v", errs)
	}
	workersBefore := w.count(t, "workers")
	done := w.commit(t, w.collegeA, first.ID)
	if got, want := countsOf(done), (counts{7, 5, 2, 5, 0, 0}); got != want || done.Status != rosters.StatusCommitted {
		t.Fatalf("first commit %+v %s, want %+v committed", got, done.Status, want)
	}
	if n := w.count(t, "workers"); n != workersBefore+5 {
		t.Fatalf("workers %d after commit, want %d", n, workersBefore+5)
	}
	var stamp time.Time
	if err := w.db.NewSelect().Table("workers").ColumnExpr("max(updated_at)").Scan(ctx, &stamp); err != nil {
		t.Fatal(err)
	}

	second := w.upload(t, w.collegeA, "2026届.csv", file, "")
	if got, want := countsOf(second), (counts{7, 5, 2, 0, 0, 5}); got != want {
		t.Fatalf("second preview %+v, want %+v (every valid row unchanged)", got, want)
	}
	again := w.commit(t, w.collegeA, second.ID)
	if got, want := countsOf(again), (counts{7, 5, 2, 0, 0, 5}); got != want {
		t.Fatalf("second commit %+v, want %+v", got, want)
	}
	if n := w.count(t, "workers"); n != workersBefore+5 {
		t.Fatalf("workers %d after second commit, want %d", n, workersBefore+5)
	}
	var stamp2 time.Time
	w.db.NewSelect().Table("workers").ColumnExpr("max(updated_at)").Scan(ctx, &stamp2)
	if !stamp2.Equal(stamp) {
		t.Errorf("second commit touched workers: updated_at %v → %v", stamp, stamp2)
	}

	// Committing again: 409 already_committed, nothing changes.
	audits := w.count(t, "audit_events")
	if _, err := w.svc.Commit(ctx, w.collegeA, first.ID); !apperr.Is(err, "already_committed") || apperr.KindOf(err) != apperr.KindConflict {
		t.Fatalf("second commit: %v, want already_committed", err)
	}
	if n := w.count(t, "audit_events"); n != audits {
		t.Errorf("a refused commit wrote %d audit events", n-audits)
	}
}

func TestChangesAndAddOnly(t *testing.T) {
	w := newWorld(t)
	a, b := newPerson(t, 0), newPerson(t, 1)
	w.commit(t, w.collegeA, w.upload(t, w.collegeA, "a.csv", []byte(csvOf(a, b)), "").ID)

	a2 := a
	a2.phone, a2.major = "13900000000", "婴幼儿托育"
	b2 := b
	b2.phone, b2.edu, b2.major, b2.year = "", "", "", "" // empty cells keep what is stored
	c := newPerson(t, 2)

	addOnly := w.upload(t, w.collegeA, "b.csv", []byte(csvOf(a2, b2, c)), rosters.ModeAddOnly)
	if got, want := countsOf(addOnly), (counts{3, 3, 0, 1, 0, 2}); got != want {
		t.Fatalf("add_only preview %+v, want %+v", got, want)
	}
	// The existing people show as exists (已存在，跳过) with what is on
	// file, masked, not the file's values (which will not be written).
	existing, _, err := w.svc.Rows(context.Background(), w.collegeA, addOnly.ID, []string{rosters.OutcomeExists}, 10, 0)
	if err != nil || len(existing) != 2 {
		t.Fatalf("exists rows %+v %v", existing, err)
	}
	ra := existing[0]
	if ra.Outcome != rosters.OutcomeExists || ra.OutcomeLabel() != "已存在，跳过" || ra.Major != a.major ||
		ra.PhoneMask != "138****0000" || ra.IDMask != a.id[:6]+"********"+a.id[14:] {
		t.Errorf("exists row shows %+v, want the stored values", ra)
	}
	if rb := existing[1]; rb.Major != b.major || rb.GraduationYear != 2026 || rb.PhoneMask != "138****0001" {
		t.Errorf("exists row with empty cells shows %+v, want the stored values", rb)
	}
	w.commit(t, w.collegeA, addOnly.ID)
	var major string
	w.db.NewSelect().Table("workers").Column("major").Where("name = ?", a.name).Scan(context.Background(), &major)
	if major != a.major {
		t.Fatalf("add_only changed an existing worker: major %q", major)
	}

	up := w.upload(t, w.collegeA, "c.csv", []byte(csvOf(a2, b2, c)), "")
	if got, want := countsOf(up), (counts{3, 3, 0, 0, 1, 2}); got != want {
		t.Fatalf("upsert preview %+v, want %+v", got, want)
	}
	rows, _, err := w.svc.Rows(context.Background(), w.collegeA, up.ID, []string{rosters.OutcomeChanged}, 10, 0)
	if err != nil || len(rows) != 1 {
		t.Fatalf("changed rows %v %v", rows, err)
	}
	d := rows[0].Diff
	if len(d) != 2 || d["phone"].New != "139****0000" || d["major"] != (rosters.Change{Old: "早期教育", New: "婴幼儿托育"}) {
		t.Errorf("diff %+v", d)
	}
	done := w.commit(t, w.collegeA, up.ID)
	if done.RowsChanged != 1 || done.RowsUnchanged != 2 {
		t.Errorf("upsert commit %+v", countsOf(done))
	}
	w.db.NewSelect().Table("workers").Column("major").Where("name = ?", a.name).Scan(context.Background(), &major)
	if major != "婴幼儿托育" {
		t.Errorf("major after upsert %q", major)
	}
	var keptEdu string
	w.db.NewSelect().Table("workers").Column("education").Where("name = ?", b.name).Scan(context.Background(), &keptEdu)
	if keptEdu != "junior_college" {
		t.Errorf("an empty cell cleared education: %q", keptEdu)
	}
}

func TestRowChecks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	banned := newPerson(t, 9)
	if _, err := w.bans.Record(ctx, w.regulator, bans.RecordInput{Person: bans.Person{Name: banned.name, IDNumber: banned.id},
		Reason: "虐童", DecisionNo: "鄂卫禁〔2026〕1号", DecidedOn: "2026-10-01", RegionCode: "420100"}); err != nil {
		t.Fatal(err)
	}
	ok := newPerson(t, 0)
	wrongSex := newPerson(t, 1)
	wrongSex.sex = map[string]string{"男": "女", "女": "男"}[wrongSex.sex]
	badPhone := newPerson(t, 2)
	badPhone.phone = "1234"
	badPlan := newPerson(t, 3)
	badPlan.plan = "NO-SUCH"
	noName := newPerson(t, 4)
	noName.name = ""
	badYear := newPerson(t, 5)
	badYear.year = "26届"
	sci := newPerson(t, 6)
	sci.id = "4.20106E+17"
	trunc := newPerson(t, 7)
	for workers.CheckChar(trunc.id[:15]+"00") == '0' { // else the damage is a valid ID
		trunc = newPerson(t, 7)
	}
	trunc.id = trunc.id[:15] + "000"
	noID := newPerson(t, 8)
	noID.id = ""
	goodPlan := newPerson(t, 10)
	goodPlan.plan = "bys-gq"

	im := w.upload(t, w.collegeA, "r.csv", []byte(csvOf(ok, wrongSex, badPhone, badPlan, noName, badYear, sci, trunc, noID, banned, ok, goodPlan)), "")
	want := map[int][]string{
		3: {rosters.CodeSexMismatch}, 4: {rosters.CodePhone}, 5: {rosters.CodeUnknownPlan},
		6: {rosters.CodeRequiredField}, 7: {rosters.CodeGradYear}, 8: {workers.CodeIDExcelScientific},
		9: {workers.CodeIDExcelTruncated}, 10: {workers.CodeIDRequired}, 11: {rosters.CodeNotRegistrable},
		12: {rosters.CodeDuplicate},
	}
	if got := w.rowErrors(t, w.collegeA, im.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("row errors\n got %v\nwant %v", got, want)
	}
	if got := countsOf(im); got != (counts{12, 2, 10, 2, 0, 0}) {
		t.Errorf("counts %+v", got)
	}
	rows, _, _ := w.svc.Rows(ctx, w.collegeA, im.ID, []string{rosters.OutcomeInvalid}, 1, 0)
	if e := rows[0].Errors[0]; e.Column != "性别" || !strings.Contains(e.Message, "不符") {
		t.Errorf("error names column %q, message %q", e.Column, e.Message)
	}

	// A ban recorded between upload and commit still keeps the person out.
	if _, err := w.bans.Record(ctx, w.regulator, bans.RecordInput{Person: bans.Person{Name: ok.name, IDNumber: ok.id},
		Reason: "虐童", DecisionNo: "鄂卫禁〔2026〕2号", DecidedOn: "2026-11-01", RegionCode: "420100"}); err != nil {
		t.Fatal(err)
	}
	done := w.commit(t, w.collegeA, im.ID)
	if got := countsOf(done); got != (counts{12, 1, 11, 1, 0, 0}) {
		t.Errorf("commit counts %+v", got)
	}
	if got := w.rowErrors(t, w.collegeA, im.ID)[2]; fmt.Sprint(got) != "[not_registrable]" {
		t.Errorf("row 2 after a ban: %v", got)
	}
	// The plan code row was put on the plan's waiting list (no open class).
	if done.RowsWaitlisted != 1 {
		t.Errorf("waitlisted %d, want 1", done.RowsWaitlisted)
	}
	var status string
	w.db.NewSelect().Table("roster_rows").Column("enrolment_status").Where("import_id = ? AND row_num = 13", im.ID).Scan(ctx, &status)
	if status != "waitlisted" {
		t.Errorf("row 13 enrolment status %q", status)
	}
}

func TestBadFilesChangeNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	good := []byte(csvOf(newPerson(t, 0)))
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "身份证号"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"张三", workerstest.IDNumber("420106")})
	var xlsx bytes.Buffer
	f.WriteTo(&xlsx)
	big := bytes.Repeat([]byte("a"), 20<<20+1)
	var many strings.Builder
	many.WriteString(header + "\n")
	for range 200_001 {
		many.WriteString("张三,1\n")
	}

	tests := []struct {
		name, file string
		data       []byte
		code       string
	}{
		{"empty", "r.csv", nil, "empty_file"},
		{"wrong extension", "r.docx", good, "unsupported_file_type"},
		{"binary garbage", "r.csv", []byte("\x00\x01\x02\xff\xfe garbage \x00"), "unsupported_file_type"},
		{"no header", "r.csv", []byte("张三,420106199001011234\n李四,420106199001011234\n"), "no_header"},
		{"0-byte xlsx", "r.xlsx", []byte{}, "empty_file"},
		{"truncated xlsx", "r.xlsx", xlsx.Bytes()[:xlsx.Len()/2], "corrupt_xlsx"},
		{"over 20 MB", "r.csv", big, "file_too_large"},
		{"over 200 000 rows", "r.csv", []byte(many.String()), "too_many_rows"},
	}
	imports, workersN, audits := w.count(t, "roster_imports"), w.count(t, "workers"), w.count(t, "audit_events")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.svc.Upload(ctx, w.collegeA, rosters.UploadInput{FileName: tt.file, Data: tt.data})
			if !apperr.Is(err, tt.code) {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
	w.svc.Wait()
	if w.count(t, "roster_imports") != imports || w.count(t, "workers") != workersN || w.count(t, "audit_events") != audits {
		t.Error("a refused file left something behind")
	}

	// All rows invalid: the import is kept for its error report, commit refuses.
	bad := newPerson(t, 1)
	bad.id = "123"
	im := w.upload(t, w.collegeA, "bad.csv", []byte(csvOf(bad, bad)), "")
	if im.RowsValid != 0 || im.RowsInvalid != 2 {
		t.Fatalf("all invalid: %+v", countsOf(im))
	}
	if _, err := w.svc.Commit(ctx, w.collegeA, im.ID); !apperr.Is(err, "no_valid_rows") {
		t.Fatalf("commit of all-invalid: %v", err)
	}
	if got, _ := w.svc.Get(ctx, w.collegeA, im.ID); got.Status != rosters.StatusValidated {
		t.Errorf("status after refused commit %s", got.Status)
	}

	// Wrong mode, wrong role.
	if _, err := w.svc.Upload(ctx, w.collegeA, rosters.UploadInput{FileName: "r.csv", Data: good, Mode: "replace"}); !apperr.Is(err, "invalid_mode") {
		t.Errorf("mode: %v", err)
	}
	if _, err := w.svc.Upload(ctx, w.regulator, rosters.UploadInput{FileName: "r.csv", Data: good}); !apperr.Is(err, "forbidden_role") {
		t.Errorf("regulator upload: %v", err)
	}
}

func TestCollegeScope(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	im := w.upload(t, w.collegeB, "b.csv", []byte(csvOf(newPerson(t, 0))), "")
	if _, err := w.svc.Get(ctx, w.collegeA, im.ID); !apperr.Is(err, "roster_not_found") {
		t.Errorf("college A reads B's import: %v", err)
	}
	if _, _, err := w.svc.Rows(ctx, w.collegeA, im.ID, nil, 10, 0); !apperr.Is(err, "roster_not_found") {
		t.Errorf("college A reads B's rows: %v", err)
	}
	var buf bytes.Buffer
	if _, err := w.svc.WriteErrorsCSV(ctx, w.collegeA, im.ID, &buf); !apperr.Is(err, "roster_not_found") {
		t.Errorf("college A reads B's errors: %v", err)
	}
	workersN := w.count(t, "workers")
	if _, err := w.svc.Commit(ctx, w.collegeA, im.ID); !apperr.Is(err, "roster_not_found") {
		t.Errorf("college A commits B's import: %v", err)
	}
	if w.count(t, "workers") != workersN {
		t.Error("a refused commit wrote workers")
	}
	list, total, err := w.svc.List(ctx, w.collegeA, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.ID == im.ID {
			t.Error("B's import in A's history")
		}
	}
	if total != len(list) {
		t.Errorf("total %d, items %d", total, len(list))
	}
	if got, _ := w.svc.Get(ctx, w.collegeB, im.ID); got == nil || got.SHA256() == "" || got.UploadedBy != w.collegeB.Username {
		t.Errorf("B's own import: %+v", got)
	}
}

func TestErrorsCSVAndTemplate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ok := newPerson(t, 0)
	bad := newPerson(t, 1)
	bad.name = "=HYPERLINK(\"http://x\")"
	bad.id = "4.20106E+17"
	im := w.upload(t, w.collegeA, "e.csv", []byte(csvOf(ok, bad)), "")
	var buf bytes.Buffer
	if _, err := w.svc.WriteErrorsCSV(ctx, w.collegeA, im.ID, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\xEF\xBB\xBF"+header+",错误\r\n") {
		t.Fatalf("errors.csv starts %q", out[:min(len(out), 120)])
	}
	lines := strings.Split(strings.TrimSpace(out), "\r\n")
	if len(lines) != 2 {
		t.Fatalf("errors.csv has %d lines, want header + 1", len(lines))
	}
	if !strings.HasPrefix(lines[1], `"'=HYPERLINK(""http://x"")",4.20106E+17,`) || !strings.Contains(lines[1], "第 3 行") ||
		!strings.Contains(lines[1], "科学计数法") {
		t.Errorf("errors.csv row %q", lines[1])
	}

	var tpl bytes.Buffer
	if err := rosters.WriteTemplate(&tpl); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&tpl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	head, _ := f.GetRows(sheet)
	if strings.Join(head[0], ",") != header {
		t.Errorf("template header %v", head[0])
	}
	style, _ := f.GetCellStyle(sheet, "B2")
	if st, err := f.GetStyle(style); err != nil || st.NumFmt != 49 {
		t.Errorf("ID column is not text: %+v %v", st, err)
	}
	// The template itself uploads: header found, no rows yet.
	if _, err := w.svc.Upload(ctx, w.collegeA, rosters.UploadInput{FileName: "template.xlsx", Data: tpl.Bytes()}); !apperr.Is(err, "empty_file") {
		t.Errorf("empty template upload: %v", err)
	}
}

// TestLibreOfficeXLSX imports an XLSX written by LibreOffice Calc: the
// committed fixture always, and one converted now when libreoffice is
// installed.
func TestLibreOfficeXLSX(t *testing.T) {
	w := newWorld(t)
	files := map[string][]byte{}
	fixture, err := os.ReadFile("testdata/libreoffice.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	files["fixture"] = fixture
	if lo, err := exec.LookPath("libreoffice"); err == nil {
		dir := t.TempDir()
		src, _ := os.ReadFile("testdata/libreoffice.csv")
		os.WriteFile(filepath.Join(dir, "roster.csv"), src, 0o644)
		cmd := exec.Command(lo, "--headless", "-env:UserInstallation=file://"+dir+"/profile",
			"--infilter=CSV:44,34,76,1,2/2/4/2", "--convert-to", "xlsx", "--outdir", dir, filepath.Join(dir, "roster.csv"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("libreoffice: %v\n%s", err, out)
		}
		if files["converted"], err = os.ReadFile(filepath.Join(dir, "roster.xlsx")); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			w.db.NewDelete().Table("roster_rows").Where("TRUE").Exec(context.Background())
			im := w.upload(t, w.collegeA, "2026届毕业生.xlsx", data, "")
			if im.Format != "xlsx" || im.RowsTotal != 3 || im.RowsValid != 3 {
				t.Fatalf("%s: %+v errors %v", name, countsOf(im), w.rowErrors(t, w.collegeA, im.ID))
			}
		})
	}
}

func TestBackgroundValidation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString(header + "\n")
	n := rosters.BackgroundRows + 500
	for i := range n {
		id := workerstest.IDNumber("420106")
		fmt.Fprintf(&b, "学员,%s,%s,,,,2026,\n", id, sexOf(t, id))
		_ = i
	}
	im := w.upload(t, w.collegeA, "big.csv", []byte(b.String()), "")
	if im.Status != rosters.StatusValidating {
		t.Fatalf("status %s, want validating", im.Status)
	}
	w.svc.Wait()
	got, err := w.svc.Get(ctx, w.collegeA, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != rosters.StatusValidated || got.Progress != 100 || got.RowsTotal != n {
		t.Fatalf("after background: status %s progress %d rows %d (%s)", got.Status, got.Progress, got.RowsTotal, got.ErrorMessage)
	}
	// Random IDs may repeat; every row is accounted for either way.
	if got.RowsValid+got.RowsInvalid != n || got.RowsNew != got.RowsValid {
		t.Errorf("counts %+v", countsOf(got))
	}
	done := w.commit(t, w.collegeA, im.ID)
	if done.RowsNew != got.RowsValid {
		t.Errorf("committed %d new, want %d", done.RowsNew, got.RowsValid)
	}
}

// TestNoPlaintextIDs scans every text column of the database for the ID
// numbers and phones imported.
func TestNoPlaintextIDs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var secrets []string
	var people []person
	for i := range 4 {
		p := newPerson(t, i)
		people = append(people, p)
		secrets = append(secrets, p.id, p.phone)
	}
	broken := people[3]
	broken.sex = "?" // an invalid row keeps its cells too
	w.commit(t, w.collegeA, w.upload(t, w.collegeA, "p.csv", []byte(csvOf(people[0], people[1], people[2], broken)), "").ID)

	var cols []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
	}
	err := w.db.NewRaw(`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')`).Scan(ctx, &cols)
	if err != nil || len(cols) < 10 {
		t.Fatalf("columns: %v (%d)", err, len(cols))
	}
	for _, c := range cols {
		for _, s := range secrets {
			n, err := w.db.NewSelect().TableExpr("?", bun.Ident(c.Table)).
				Where("?::text LIKE ?", bun.Ident(c.Column), "%"+s+"%").Count(ctx)
			if err != nil {
				t.Fatalf("scan %s.%s: %v", c.Table, c.Column, err)
			}
			if n > int64(0) {
				t.Errorf("%s.%s holds a plaintext ID or phone", c.Table, c.Column)
			}
		}
	}
}

// storedWorker is what a test checks of a worker after a commit.
type storedWorker struct {
	ID             int64  `bun:"id"`
	Name           string `bun:"name"`
	CollegeOrgID   int64  `bun:"college_org_id"`
	PhoneMask      string `bun:"phone_mask"`
	Major          string `bun:"major"`
	GraduationYear int    `bun:"graduation_year"`
	RegionCode     string `bun:"region_code"`
}

func (w *world) worker(t *testing.T, name string) storedWorker {
	t.Helper()
	var sw storedWorker
	err := w.db.NewSelect().Table("workers").
		Column("id", "name", "phone_mask", "major", "region_code").
		ColumnExpr("coalesce(college_org_id, 0) AS college_org_id, coalesce(graduation_year, 0) AS graduation_year").
		Where("name = ?", name).Scan(context.Background(), &sw)
	if err != nil {
		t.Fatalf("worker %s: %v", name, err)
	}
	return sw
}

// TestOtherCollegeCannotTakeOver: a college's roster naming another
// college's graduate is refused for that row, shows nothing of the stored
// worker, and its commit leaves the graduate as it was.
func TestOtherCollegeCannotTakeOver(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	grad := newPerson(t, 0)
	grad.major = "早期教育"
	w.commit(t, w.collegeA, w.upload(t, w.collegeA, "a.csv", []byte(csvOf(grad)), "").ID)
	before := w.worker(t, grad.name)
	if before.CollegeOrgID != w.collegeA.OrgID {
		t.Fatalf("graduate's college %d, want %d", before.CollegeOrgID, w.collegeA.OrgID)
	}

	theirs := grad
	theirs.phone, theirs.edu, theirs.major, theirs.year = "13700000001", "本科", "学前教育", "2025"
	for i, mode := range []string{rosters.ModeUpsert, rosters.ModeAddOnly} {
		t.Run(mode, func(t *testing.T) {
			other := newPerson(t, 1+i)
			other.edu, other.major = "本科", "学前教育"
			im := w.upload(t, w.collegeB, "b.csv", []byte(csvOf(theirs, other)), mode)
			if got := countsOf(im); got != (counts{2, 1, 1, 1, 0, 0}) {
				t.Errorf("preview %+v, want the graduate's row invalid", got)
			}
			rows, _, err := w.svc.Rows(ctx, w.collegeB, im.ID, nil, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			r := rows[0]
			if r.Outcome != rosters.OutcomeInvalid || len(r.Errors) != 1 || r.Errors[0].Code != rosters.CodeOtherCollege ||
				!strings.Contains(r.Errors[0].Message, "不属于本校毕业生") {
				t.Errorf("row 2 %s %+v, want invalid other_college", r.Outcome, r.Errors)
			}
			if r.WorkerID != 0 || len(r.Diff) != 0 {
				t.Errorf("row 2 shows the stored worker: worker_id %d diff %+v", r.WorkerID, r.Diff)
			}
			js, _ := json.Marshal(rows)
			for _, foreign := range []string{before.PhoneMask, "甲学院", "早期教育", "大专", "junior_college", "worker_id"} {
				if strings.Contains(string(js), foreign) {
					t.Errorf("college B's preview holds %q of college A's graduate: %s", foreign, js)
				}
			}
			w.commit(t, w.collegeB, im.ID)
			if after := w.worker(t, grad.name); after != before {
				t.Errorf("college B's commit changed A's graduate:\n got %+v\nwant %+v", after, before)
			}
		})
	}
	ws := workers.NewService(w.db, workerstest.Cipher(t), func() time.Time { return testNow })
	if _, err := ws.ByID(ctx, w.collegeA, before.ID); err != nil {
		t.Errorf("college A no longer sees its graduate: %v", err)
	}

	// Validated while nobody had the person, committed after college A
	// took them: the commit refuses the row and leaves the worker alone.
	late := newPerson(t, 3)
	pending := w.upload(t, w.collegeB, "late.csv", []byte(csvOf(late, newPerson(t, 4))), "")
	if pending.RowsNew != 2 {
		t.Fatalf("pending preview %+v", countsOf(pending))
	}
	w.commit(t, w.collegeA, w.upload(t, w.collegeA, "late-a.csv", []byte(csvOf(late)), "").ID)
	lateBefore := w.worker(t, late.name)
	done := w.commit(t, w.collegeB, pending.ID)
	if got := countsOf(done); got != (counts{2, 1, 1, 1, 0, 0}) {
		t.Errorf("late commit %+v, want one row refused", got)
	}
	if got := w.rowErrors(t, w.collegeB, pending.ID)[2]; fmt.Sprint(got) != "[other_college]" {
		t.Errorf("row 2 after college A took the person: %v", got)
	}
	if after := w.worker(t, late.name); after != lateBefore {
		t.Errorf("late commit changed A's graduate:\n got %+v\nwant %+v", after, lateBefore)
	}
}

// TestWorkerOfNoCollegeIsNotClaimed: a person already on file who is not
// this college's graduate (registered by a provider, say) is refused like
// another college's graduate: the preview must not show what is stored, and
// the commit must not rename or take them over.
func TestWorkerOfNoCollegeIsNotClaimed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ws := workers.NewService(w.db, workerstest.Cipher(t), func() time.Time { return testNow })
	provider := workerstest.Staff(t, w.db, accounts.RoleProvider, workerstest.Org(t, w.db, "provider", "420100"), "420100")
	known := newPerson(t, 0)
	if _, err := ws.Register(ctx, provider, workers.RegisterInput{Name: known.name, IDNumber: known.id, Phone: "13811112222"}); err != nil {
		t.Fatal(err)
	}
	impostor := known
	impostor.name, impostor.major = "张冒名", "婴幼儿托育"
	im := w.upload(t, w.collegeA, "claim.csv", []byte(csvOf(impostor)), "")
	if got := countsOf(im); got != (counts{1, 0, 1, 0, 0, 0}) {
		t.Fatalf("preview %+v, want the row invalid", got)
	}
	rows, _, err := w.svc.Rows(ctx, w.collegeA, im.ID, nil, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; len(r.Errors) != 1 || r.Errors[0].Code != rosters.CodeOtherCollege || len(r.Diff) != 0 || r.WorkerID != 0 {
		t.Fatalf("row %+v, want other_college with no diff and no worker", r)
	}
	got := w.worker(t, known.name)
	if got.CollegeOrgID != 0 || got.PhoneMask != "138****2222" {
		t.Fatalf("the stored worker changed: %+v", got)
	}
	if _, err := ws.ByID(ctx, w.collegeA, got.ID); apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("college A sees a worker it does not own: %v", err)
	}
}

// TestRosterKeepsAStoredPhone: a college's own graduate keeps the phone on
// file (the worker may have set it); a roster only fills an empty one.
func TestRosterKeepsAStoredPhone(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	withPhone, noPhone := newPerson(t, 0), newPerson(t, 1)
	withPhone.phone = "13811112222"
	noPhone.phone = ""
	w.commit(t, w.collegeA, w.upload(t, w.collegeA, "first.csv", []byte(csvOf(withPhone, noPhone)), "").ID)

	withPhone.phone, noPhone.phone = "13933334444", "13955556666"
	im := w.upload(t, w.collegeA, "again.csv", []byte(csvOf(withPhone, noPhone)), "")
	if got := countsOf(im); got != (counts{2, 2, 0, 0, 1, 1}) {
		t.Fatalf("preview %+v, want the empty phone filled and the stored one kept", got)
	}
	rows, _, err := w.svc.Rows(ctx, w.collegeA, im.ID, nil, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := rows[0].Diff; d["phone"] != (rosters.Change{Old: "138****2222", New: "139****4444", Kept: true}) {
		t.Errorf("row 2 diff %+v, want the phone shown as kept", d)
	}
	if d := rows[1].Diff; d["phone"] != (rosters.Change{Old: "", New: "139****6666"}) {
		t.Errorf("row 3 diff %+v, want the empty phone filled", d)
	}
	w.commit(t, w.collegeA, im.ID)
	if got := w.worker(t, withPhone.name); got.PhoneMask != "138****2222" {
		t.Errorf("the roster overwrote a stored phone: %s", got.PhoneMask)
	}
	if got := w.worker(t, noPhone.name); got.PhoneMask != "139****6666" {
		t.Errorf("the empty phone was not filled: %s", got.PhoneMask)
	}
}

// TestRefusedCommitKeepsRecheck: when every valid row is banned between
// upload and commit, the refusal leaves the import saying so: the row
// invalid with code banned, the counts and errors.csv agreeing.
func TestRefusedCommitKeepsRecheck(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := newPerson(t, 0)
	im := w.upload(t, w.collegeA, "ban.csv", []byte(csvOf(p)), "")
	if im.RowsValid != 1 || im.RowsNew != 1 {
		t.Fatalf("preview %+v", countsOf(im))
	}
	if _, err := w.bans.Record(ctx, w.regulator, bans.RecordInput{Person: bans.Person{Name: p.name, IDNumber: p.id},
		Reason: "虐童", DecisionNo: "鄂卫禁〔2026〕9号", DecidedOn: "2026-11-01", RegionCode: "420100"}); err != nil {
		t.Fatal(err)
	}
	workersN := w.count(t, "workers")
	if _, err := w.svc.Commit(ctx, w.collegeA, im.ID); !apperr.Is(err, "no_valid_rows") {
		t.Fatalf("commit: %v, want no_valid_rows", err)
	}
	got, err := w.svc.Get(ctx, w.collegeA, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := countsOf(got); c != (counts{1, 0, 1, 0, 0, 0}) || got.Status != rosters.StatusValidated {
		t.Errorf("after the refusal %+v %s, want the row counted invalid", c, got.Status)
	}
	if errs := w.rowErrors(t, w.collegeA, im.ID); fmt.Sprint(errs) != "map[2:[not_registrable]]" {
		t.Errorf("row errors %v", errs)
	}
	var buf bytes.Buffer
	if _, err := w.svc.WriteErrorsCSV(ctx, w.collegeA, im.ID, &buf); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\r\n"); len(lines) != 2 || !strings.Contains(lines[1], "无法登记") || strings.Contains(lines[1], "禁") {
		t.Errorf("errors.csv %q, want the banned row", lines)
	}
	if w.count(t, "workers") != workersN {
		t.Error("a refused commit wrote workers")
	}
}

// TestBannedRowIsNotRegistrable: a college uploading a banned person's row
// learns only that the row cannot be registered, never the word ban, and
// each such row is audited with the college as the actor.
func TestBannedRowIsNotRegistrable(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	banned, other := newPerson(t, 0), newPerson(t, 1)
	if _, err := w.bans.Record(ctx, w.regulator, bans.RecordInput{Person: bans.Person{Name: banned.name, IDNumber: banned.id},
		Reason: "虐童", DecisionNo: "鄂卫禁〔2026〕21号", DecidedOn: "2026-11-01", RegionCode: "420100"}); err != nil {
		t.Fatal(err)
	}
	im := w.upload(t, w.collegeA, "nr.csv", []byte(csvOf(other, banned)), "")
	rows, _, err := w.svc.Rows(ctx, w.collegeA, im.ID, []string{rosters.OutcomeInvalid}, 10, 0)
	if err != nil || len(rows) != 1 || len(rows[0].Errors) != 1 {
		t.Fatalf("invalid rows %+v %v", rows, err)
	}
	e := rows[0].Errors[0]
	if e.Code != rosters.CodeNotRegistrable || e.Message != "该人员无法登记，请联系属地卫健部门" {
		t.Errorf("row error %+v", e)
	}
	out, _ := json.Marshal(rows)
	var buf bytes.Buffer
	if _, err := w.svc.WriteErrorsCSV(ctx, w.collegeA, im.ID, &buf); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{string(out), buf.String()} {
		if strings.Contains(text, "禁") || strings.Contains(strings.ToLower(text), "ban") {
			t.Errorf("the college is told of the ban: %s", text)
		}
	}
	var events []struct {
		ActorUserID int64  `bun:"actor_user_id"`
		ActorOrgID  int64  `bun:"actor_org_id"`
		TargetID    string `bun:"target_id"`
		Summary     string `bun:"summary"`
	}
	if err := w.db.NewSelect().Table("audit_events").Column("actor_user_id", "actor_org_id", "target_id", "summary").
		Where("action = 'rosters.row_not_registrable' AND target_id = ?", fmt.Sprint(im.ID)).Scan(ctx, &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ActorUserID != w.collegeA.UserID || events[0].ActorOrgID != w.collegeA.OrgID ||
		!strings.Contains(events[0].Summary, `"row": 3`) && !strings.Contains(events[0].Summary, `"row":3`) {
		t.Errorf("audit events %+v, want one for row 3 by the college", events)
	}
}

// TestMangledIDMaskedWhole: an ID number mangled by a spreadsheet is shown
// back in the preview masked as a whole, a short prefix and an ellipsis.
func TestMangledIDMaskedWhole(t *testing.T) {
	w := newWorld(t)
	sci, short := newPerson(t, 0), newPerson(t, 1)
	sci.id = "4.20106199001011E+17"
	short.id = short.id[:17]
	im := w.upload(t, w.collegeA, "mangled.csv", []byte(csvOf(sci, short)), "")
	rows, _, err := w.svc.Rows(context.Background(), w.collegeA, im.ID, []string{rosters.OutcomeInvalid}, 10, 0)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %+v %v", rows, err)
	}
	for i, want := range []string{"4.2010…", short.id[:6] + "…"} {
		if rows[i].Cells[1] != want || rows[i].IDMask != want {
			t.Errorf("row %d shows %q / %q, want %q", rows[i].RowNum, rows[i].Cells[1], rows[i].IDMask, want)
		}
	}
}
