// Package roster benchmarks college roster imports end to end: a generated
// 100 000-row roster (valid ID numbers, 1 % bad rows) as GBK CSV and as
// XLSX is validated and committed through the rosters service on a real
// PostgreSQL database, and the same rows are loaded with a bare COPY for
// comparison. See README for how to run it; figures go to
// docs/performance.md, section "Roster import".
package roster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/bans"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/rosters"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// rowsPerFile is the roster size of issue 3's benchmark; ROSTER_ROWS
// overrides it for a quick run.
func rowsPerFile() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// person is one generated graduate.
type person struct {
	name, id, sex, phone string
}

// generate makes n graduates with distinct valid ID numbers (area, then a
// birth date per 500 people, then sequence and sex digits); every 100th
// has a wrong check character.
func generate(n int, area string, salt int) []person {
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []rune("雨涵欣怡梓萱思彤佳可馨紫一诺子浩然宇轩晨曦雅琪梦瑶诗俊杰")
	base := time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]person, n)
	for i := range n {
		birth := base.AddDate(0, 0, i/500)
		k := i % 500
		first17 := fmt.Sprintf("%s%s%02d%d", area, birth.Format("20060102"), k/5, k%5*2+i%2)
		check := workers.CheckChar(first17)
		if i%100 == 99 {
			check = "0123456789X"[(strings.IndexByte("0123456789X", check)+1)%11]
		}
		sex := "女"
		if i%2 == 1 {
			sex = "男"
		}
		name := string(surnames[(i+salt)%len(surnames)]) + string(given[(i/7)%len(given)]) + string(given[(i/3+salt)%len(given)])
		out[i] = person{name: name, id: first17 + string(check), sex: sex, phone: fmt.Sprintf("139%08d", i+salt*1_000_000)}
	}
	return out
}

const header = "姓名,身份证号,性别,手机号,学历,专业,毕业年份"

func gbkCSV(tb testing.TB, people []person) []byte {
	var b strings.Builder
	b.WriteString(header + "\r\n")
	for _, p := range people {
		fmt.Fprintf(&b, "%s,%s,%s,%s,大专,婴幼儿托育服务与管理,2026\r\n", p.name, p.id, p.sex, p.phone)
	}
	out, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func xlsxFile(tb testing.TB, people []person) []byte {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	sw.SetRow("A1", []any{"姓名", "身份证号", "性别", "手机号", "学历", "专业", "毕业年份"})
	for i, p := range people {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{p.name, p.id, p.sex, p.phone, "大专", "婴幼儿托育服务与管理", 2026}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// peakRSS is the process's peak resident set (VmHWM) in MB; resetPeak
// starts a new measurement (Linux).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

type result struct {
	file             string
	size             int
	validate, commit time.Duration
	rss              float64
	im               *rosters.Import
}

// importFile uploads data as p's roster, waits for the background
// validation, commits, and measures both steps.
func importFile(tb testing.TB, svc *rosters.Service, p *accounts.Principal, name string, data []byte) result {
	ctx := context.Background()
	resetPeak()
	start := time.Now()
	im, err := svc.Upload(ctx, p, rosters.UploadInput{FileName: name, Data: data})
	if err != nil {
		tb.Fatal(err)
	}
	svc.Wait()
	validate := time.Since(start)
	if im, err = svc.Get(ctx, p, im.ID); err != nil || im.Status != rosters.StatusValidated {
		tb.Fatalf("after validation: %+v %v", im, err)
	}
	start = time.Now()
	if im, err = svc.Commit(ctx, p, im.ID); err != nil {
		tb.Fatal(err)
	}
	return result{file: name, size: len(data), validate: validate, commit: time.Since(start), rss: peakRSS(), im: im}
}

// copyBare loads the same rows with COPY into a bare table (text columns,
// no keys, no triggers): the floor any import is compared with.
func copyBare(tb testing.TB, db *bun.DB, people []person) time.Duration {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS bench_roster_copy;
		CREATE TABLE bench_roster_copy (name text, id_number text, sex text, phone text,
			education text, major text, graduation_year smallint)`); err != nil {
		tb.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	pr, pw := io.Pipe()
	go func() {
		var b bytes.Buffer
		for _, p := range people {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t大专\t婴幼儿托育服务与管理\t2026\n", p.name, p.id, p.sex, p.phone)
			if b.Len() > 1<<20 {
				pw.Write(b.Bytes())
				b.Reset()
			}
		}
		pw.Write(b.Bytes())
		pw.Close()
	}()
	if _, err := pgdriver.CopyFrom(ctx, conn, pr, "COPY bench_roster_copy FROM STDIN"); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// insertPlain writes the workers the first import created again, into a
// copy of the workers table without its triggers and foreign keys, with
// its indexes and checks (indexes true: what the commit would cost if the
// triggers and key checks were free) or without them (the same worker rows,
// as wide as stored, into a bare table: what the rows alone cost).
func insertPlain(tb testing.TB, db *bun.DB, indexes bool) time.Duration {
	ctx := context.Background()
	like := "LIKE workers INCLUDING DEFAULTS INCLUDING IDENTITY"
	if indexes {
		like += " INCLUDING CONSTRAINTS INCLUDING INDEXES"
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS bench_workers_plain;
		CREATE TABLE bench_workers_plain (`+like+`)`); err != nil {
		tb.Fatal(err)
	}
	var lo, hi int64
	if err := db.NewRaw(`SELECT min(id), max(id) FROM workers WHERE id_area_code = '420106'`).Scan(ctx, &lo, &hi); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	// In chunks, like the commit: one 100 000-row statement outlasts the
	// driver's 10 s read timeout on a busy machine.
	for from := lo; from <= hi; from += 10_000 {
		if _, err := db.ExecContext(ctx, `INSERT INTO bench_workers_plain (name, id_number_enc, id_number_idx, id_mask, sex,
			birth_date, id_area_code, phone_enc, phone_idx, phone_mask, education, major, graduation_year, college_org_id,
			registered_by_org_id)
		SELECT name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code, phone_enc, phone_idx,
			phone_mask, education, major, graduation_year, college_org_id, registered_by_org_id
		FROM workers WHERE id_area_code = '420106' AND id >= ? AND id < ? ORDER BY id`, from, from+10_000); err != nil {
			tb.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkRosterImport runs the whole measurement once per iteration; run
// it with -benchtime=1x (see README).
func BenchmarkRosterImport(b *testing.B) {
	db := dbtest.DB(b)
	cipher := workerstest.Cipher(b)
	cat := catalog.NewService(db)
	enr := enrolment.NewService(db, classes.NewService(db, cat, enrolment.Membership, time.Now, nil), cat, cipher)
	svc := rosters.NewService(db, cipher, bans.NewService(db, cipher, enr, time.Now, nil), nil, nil, time.Now, nil)
	defer svc.Close()
	n := rowsPerFile()
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		db.ExecContext(ctx, "TRUNCATE roster_rows, roster_imports, workers CASCADE")
		org := workerstest.Org(b, db, "college", "420100")
		p := workerstest.Staff(b, db, accounts.RoleCollege, org, "420100")

		csvPeople := generate(n, "420106", 0)
		xlsxPeople := generate(n, "420503", 7)
		csvData, xlsxData := gbkCSV(b, csvPeople), xlsxFile(b, xlsxPeople)

		csvRes := importFile(b, svc, p, "roster.csv", csvData)
		xlsxRes := importFile(b, svc, p, "roster.xlsx", xlsxData)
		again := importFile(b, svc, p, "roster-again.csv", csvData)
		copyTime := copyBare(b, db, csvPeople)
		fmt.Printf("\nfirst commit %.2f s, COPY %.2f s: %.1f×\n", csvRes.commit.Seconds(), copyTime.Seconds(),
			csvRes.commit.Seconds()/copyTime.Seconds())
		plainTime := insertPlain(b, db, true)
		bareTime := insertPlain(b, db, false)

		fmt.Printf("\nroster import, %d rows per file (1 %% bad), GOMAXPROCS=%s\n", n, os.Getenv("GOMAXPROCS"))
		fmt.Printf("| file | size | validate | commit | validate + commit | peak RSS | new / unchanged / invalid |\n|---|---|---|---|---|---|---|\n")
		for _, r := range []result{csvRes, xlsxRes, again} {
			fmt.Printf("| %s | %.1f MB | %.2f s | %.2f s | %.2f s | %.0f MB | %d / %d / %d |\n", r.file, float64(r.size)/(1<<20),
				r.validate.Seconds(), r.commit.Seconds(), (r.validate + r.commit).Seconds(), r.rss,
				r.im.RowsNew, r.im.RowsUnchanged, r.im.RowsInvalid)
		}
		fmt.Printf("COPY of the same %d rows into a bare table: %.2f s; first commit / COPY = %.1f×\n",
			n, copyTime.Seconds(), csvRes.commit.Seconds()/copyTime.Seconds())
		fmt.Printf("INSERT … SELECT of the %d new workers into a copy of workers without triggers and foreign keys: %.2f s\n",
			csvRes.im.RowsNew, plainTime.Seconds())
		fmt.Printf("INSERT … SELECT of the same workers into a bare copy of workers (no index, check, trigger or key): %.2f s; first commit / that = %.1f×\n",
			bareTime.Seconds(), csvRes.commit.Seconds()/bareTime.Seconds())

		if csvRes.im.RowsInvalid != n/100 || csvRes.im.RowsNew != n-n/100 || again.im.RowsNew != 0 || again.im.RowsUnchanged != n-n/100 {
			b.Fatalf("counts: first %+v, again %+v", csvRes.im, again.im)
		}
		b.ReportMetric((csvRes.validate + csvRes.commit).Seconds(), "csv_s")
		b.ReportMetric((xlsxRes.validate + xlsxRes.commit).Seconds(), "xlsx_s")
		b.ReportMetric(csvRes.commit.Seconds()/copyTime.Seconds(), "commit/copy")
		b.ReportMetric(max(csvRes.rss, xlsxRes.rss, again.rss), "peak_MB")
	}
}
