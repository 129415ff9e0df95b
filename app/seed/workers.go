package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/institutions"
	"tuoyu/modules/workers"
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

// person makes one generated worker: a valid ID number from a demo city,
// aged 18–55 on asOf, with phone, schooling and, for some, a college,
// employer, insurance facts and bank account. The draws from r are in a
// fixed order: changing it changes the demo world.
func person(ws *workers.Service, r *rand.Rand, asOf time.Time, colleges, employers []int64) (*workers.Worker, error) {
	age := 18 + r.IntN(38)
	birth := time.Date(asOf.Year()-age-1, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	sex := workers.SexFemale
	if r.IntN(10) == 0 { // childcare staff are mostly women
		sex = workers.SexMale
	}
	number := workers.GenerateID(r, demoAreas[r.IntN(len(demoAreas))], birth, sex)
	id, err := workers.ValidateID(number, asOf)
	if err != nil {
		return nil, fmt.Errorf("demo id %s: %w", number, err)
	}
	// Target groups stay nil ("never asked") unless drawn below.
	w := &workers.Worker{Name: demoName(r), Occupations: []string{},
		Education: workers.Educations[2+r.IntN(5)]}
	phone := fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
	if len(colleges) > 0 && age <= 24 {
		w.CollegeOrgID = colleges[r.IntN(len(colleges))]
		w.Major = demoMajors[r.IntN(len(demoMajors))]
		w.GraduationYear = asOf.Year() - r.IntN(2)
		w.TargetGroups = []string{workers.GroupGraduateOfYear}
		w.Employment = workers.EmpStudent
		w.TargetGroupsSetAt, w.TargetGroupsSetBy = &asOf, workers.FactByHRReviewer
		w.EmploymentSetAt, w.EmploymentSetBy = &asOf, workers.FactByWorker
	}
	if len(employers) > 0 && age > 21 && r.IntN(2) == 0 {
		w.EmployerInstitutionID = employers[r.IntN(len(employers))]
		w.Employment = workers.EmpEnterpriseEmployee
		months := r.IntN(60)
		on := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, -r.IntN(3), 0)
		w.InsuredMonths, w.InsuredMonthsOn, w.InsuredMonthsSource = &months, &on, "demo"
		w.EmploymentSetAt, w.EmploymentSetBy = &asOf, workers.FactByHRReviewer
		w.InsuredMonthsSetAt, w.InsuredMonthsSetBy = &asOf, workers.FactByHRImport
		w.Occupations = []string{workers.Occupations[r.IntN(2)].Code}
	}
	bank := ""
	if r.IntN(3) == 0 {
		bank = fmt.Sprintf("6222%015d", r.Int64N(1_000_000_000_000_000))
		w.BankName = demoBanks[r.IntN(len(demoBanks))]
	}
	return w, ws.Seal(w, id, phone, bank)
}

// Workers adds the demo workers and the worker login worker1 (linked to the
// first of them) in one transaction. Workers are matched by ID number, so
// reseeding adds nobody twice; an existing worker1 is left alone. It needs
// the organisations college1 and college2 and the demo institutions.
// Errors: NotFound organisation_not_found without the demo colleges; Invalid
// from workers.Service.Seal; Conflict worker_has_login.
func Workers(ctx context.Context, s Services) error {
	var colleges, employers []int64
	for _, code := range []string{"college1", "college2"} {
		o, err := s.Orgs.ByCode(ctx, code)
		if err != nil {
			return fmt.Errorf("demo college %s: %w", code, err)
		}
		colleges = append(colleges, o.ID)
	}
	insts, _, err := s.Institutions.List(ctx, institutions.Filter{})
	if err != nil {
		return fmt.Errorf("demo institutions: %w", err)
	}
	for _, n := range insts {
		employers = append(employers, n.ID)
	}
	slices.Sort(employers) // in registration order: the draws pick by position
	r := demoRand()
	batch := make([]workers.Worker, 0, DemoWorkers)
	for range DemoWorkers {
		w, err := person(s.Workers, r, demoAsOf, colleges, employers)
		if err != nil {
			return err
		}
		w.RegisteredByOrgID = w.CollegeOrgID
		batch = append(batch, *w)
	}
	if len(employers) > 0 {
		// worker1 lives and works in 武汉 (DESIGN §5.5): employed by the first
		// demo institution (武昌区, 420106), so 武汉's HR sees them in scope.
		batch[0].EmployerInstitutionID = employers[0]
		batch[0].Employment = workers.EmpEnterpriseEmployee
		batch[0].EmploymentSetAt, batch[0].EmploymentSetBy = &demoAsOf, workers.FactByHRReviewer
	}
	exists, err := s.userExists(ctx, "worker1")
	if err != nil {
		return err
	}
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.Workers.AddIfAbsent(ctx, tx, batch); err != nil {
			return err
		}
		if exists {
			return nil
		}
		found, err := workers.LookupByIDNumberIdx(ctx, tx, [][]byte{batch[0].IDNumberIdx})
		if err != nil {
			return err
		}
		_, err = accounts.CreateUserTx(ctx, tx, accounts.NewUser{Username: "worker1", DisplayName: "演示学员",
			Role: accounts.RoleWorker, WorkerID: found[string(batch[0].IDNumberIdx)].ID, Password: DemoPassword, Demo: true})
		return err
	})
}
