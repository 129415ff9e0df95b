package workers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
)

// DemoWorkers is how many workers the demo seed creates (DESIGN §5.5).
const DemoWorkers = 200

// demoAreas are the district codes of the demo cities (武汉, 宜昌, 襄阳) the
// generated ID numbers are issued in, weighted towards 武汉.
var demoAreas = []string{
	"420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112", "420115",
	"420102", "420106", "420111",
	"420502", "420503", "420506", "420581",
	"420602", "420606", "420607", "420683",
}

var (
	demoSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	demoGiven    = []rune("静丽敏燕艳娟霞芳娜丹玲萍红梅婷雪琳晶颖慧倩莉佳欣怡悦彤蕾琴云华英兰凤洁琼瑶璐楠宁晨阳杰磊军涛斌超鹏浩宇俊")
	demoMajors   = []string{"婴幼儿托育服务与管理", "早期教育", "学前教育", "护理", "幼儿发展与健康管理"}
	demoBanks    = []string{"中国工商银行武汉分行", "中国建设银行宜昌分行", "中国农业银行襄阳分行", "湖北农信", "汉口银行"}
)

// demoAsOf is the date the demo people's ages and facts are drawn for,
// fixed so that reseeding in a later year finds the same people.
var demoAsOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// demoRand is the generator of the demo world: fixed, so every seeded
// database holds the same people and reseeding finds them again.
func demoRand() *rand.Rand { return rand.New(rand.NewPCG(20261129, 3)) }

func demoName(r *rand.Rand) string {
	n := []rune{demoSurnames[r.IntN(len(demoSurnames))], demoGiven[r.IntN(len(demoGiven))]}
	if r.IntN(3) > 0 {
		n = append(n, demoGiven[r.IntN(len(demoGiven))])
	}
	return string(n)
}

// demoWorker makes the i-th demo worker: a valid ID number from a demo city,
// aged 18–55 on asOf, with phone, schooling and, for some, a college,
// employer, insurance facts and bank account.
func (s *Service) demoWorker(r *rand.Rand, asOf time.Time, colleges, employers []int64) (*Worker, error) {
	age := 18 + r.IntN(38)
	birth := time.Date(asOf.Year()-age-1, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	sex := SexFemale
	if r.IntN(10) == 0 { // childcare staff are mostly women
		sex = SexMale
	}
	number := GenerateID(r, demoAreas[r.IntN(len(demoAreas))], birth, sex)
	id, err := ValidateID(number, asOf)
	if err != nil {
		return nil, fmt.Errorf("demo id %s: %w", number, err)
	}
	w := &Worker{Name: demoName(r), Occupations: []string{},
		Education: Educations[2+r.IntN(5)]}
	if err := s.setIDNumber(w, id); err != nil {
		return nil, err
	}
	if err := s.setPhone(w, fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))); err != nil {
		return nil, err
	}
	if len(colleges) > 0 && age <= 24 {
		w.CollegeOrgID = colleges[r.IntN(len(colleges))]
		w.Major = demoMajors[r.IntN(len(demoMajors))]
		w.GraduationYear = asOf.Year() - r.IntN(2)
		w.TargetGroups = []string{GroupGraduateOfYear}
		w.Employment = EmpStudent
		w.TargetGroupsSetAt, w.TargetGroupsSetBy = factStamp(true, asOf, FactByHRReviewer)
		w.EmploymentSetAt, w.EmploymentSetBy = factStamp(true, asOf, FactByWorker)
	}
	if len(employers) > 0 && age > 21 && r.IntN(2) == 0 {
		w.EmployerInstitutionID = employers[r.IntN(len(employers))]
		w.Employment = EmpEnterpriseEmployee
		months := r.IntN(60)
		on := dateOf(asOf).AddDate(0, -r.IntN(3), 0)
		w.InsuredMonths, w.InsuredMonthsOn, w.InsuredMonthsSource = &months, &on, "demo"
		w.EmploymentSetAt, w.EmploymentSetBy = factStamp(true, asOf, FactByHRReviewer)
		w.InsuredMonthsSetAt, w.InsuredMonthsSetBy = factStamp(true, asOf, FactByHRImport)
		w.Occupations = []string{Occupations[r.IntN(2)].Code}
	}
	if r.IntN(3) == 0 {
		if err := s.setBank(w, fmt.Sprintf("6222%015d", r.Int64N(1_000_000_000_000_000))); err != nil {
			return nil, err
		}
		w.BankName = demoBanks[r.IntN(len(demoBanks))]
	}
	return w, nil
}

// SeedDemo adds the demo workers and the worker login worker1 (linked to the
// first of them, with the given password). It is idempotent: workers are
// matched by ID number and an existing worker1 is left alone. It needs the
// organisations college1 and college2 and the demo institutions.
func (s *Service) SeedDemo(ctx context.Context, password string) error {
	asOf := demoAsOf
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var colleges, employers []int64
		if err := tx.NewSelect().Table("organisations").Column("id").Where("code IN ('college1', 'college2')").
			OrderExpr("code").Scan(ctx, &colleges); err != nil {
			return fmt.Errorf("demo colleges: %w", err)
		}
		if err := tx.NewSelect().Table("institutions").Column("id").OrderExpr("id").Scan(ctx, &employers); err != nil {
			return fmt.Errorf("demo institutions: %w", err)
		}
		r := demoRand()
		var firstID int64
		for i := 0; i < DemoWorkers; i++ {
			w, err := s.demoWorker(r, asOf, colleges, employers)
			if err != nil {
				return err
			}
			w.RegisteredByOrgID = w.CollegeOrgID
			_, err = tx.NewInsert().Model(w).
				ExcludeColumn("id", "region_code", "banned", "created_at", "updated_at").
				On("CONFLICT (id_number_idx) DO NOTHING").Exec(ctx)
			if err != nil {
				return fmt.Errorf("insert demo worker: %w", err)
			}
			if i == 0 {
				found, err := NewStore(tx).ByIDNumberIdx(ctx, w.IDNumberIdx)
				if err != nil {
					return err
				}
				firstID = found.ID
			}
		}
		n, err := tx.NewSelect().Table("users").Where("username = 'worker1'").Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		_, err = accounts.CreateUserTx(ctx, tx, accounts.NewUser{Username: "worker1", DisplayName: "演示学员",
			Role: accounts.RoleWorker, WorkerID: firstID, Password: password})
		return err
	})
}

// DemoBanned returns the name and ID number of the person the demo ban is
// about: the last of the demo workers, so the ban falls on a worker.
// Errors: NotFound worker_not_found before the workers are seeded.
func (s *Service) DemoBanned(ctx context.Context) (name, idNumber string, err error) {
	w := new(Worker)
	err = s.db.NewSelect().Model(w).OrderExpr("w.id").Offset(DemoWorkers - 1).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", errNotFound()
	}
	if err != nil {
		return "", "", fmt.Errorf("select demo worker: %w", err)
	}
	plain, err := s.cipher.Decrypt(w.IDNumberEnc)
	return w.Name, plain, err
}

// SeedScale adds n generated workers (valid ID numbers, Hubei areas) in
// batches of 1000 for load tests, reporting progress to out. Existing ID
// numbers are skipped.
func (s *Service) SeedScale(ctx context.Context, n int, out io.Writer) error {
	if n <= 0 {
		return apperr.Invalid("validation_failed", "人数须为正整数")
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	asOf := s.now()
	for done := 0; done < n; {
		batch := make([]Worker, 0, min(1000, n-done))
		for len(batch) < cap(batch) {
			w, err := s.demoWorker(r, asOf, nil, nil)
			if err != nil {
				return err
			}
			batch = append(batch, *w)
		}
		_, err := s.db.NewInsert().Model(&batch).
			ExcludeColumn("id", "region_code", "banned", "created_at", "updated_at").
			On("CONFLICT (id_number_idx) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert generated workers: %w", err)
		}
		done += len(batch)
		fmt.Fprintf(out, "workers: %d/%d\n", done, n)
	}
	return nil
}
