package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"tuoyu/modules/rosters"
	"tuoyu/modules/workers"
)

// demoRoster is one demo college's graduating class.
type demoRoster struct {
	username string
	file     string
	areas    []string // areas of birth of its graduates
	majors   []string
}

var demoRosters = []demoRoster{
	{"college1", "武汉城市职业学院2026届早期教育专业毕业生花名册.csv", []string{"420102", "420106", "420111", "421281"},
		[]string{"早期教育", "婴幼儿托育服务与管理"}},
	{"college2", "三峡旅游职业技术学院2026届毕业生名单.csv", []string{"420502", "420503", "420581", "422801"},
		[]string{"婴幼儿托育服务与管理", "学前教育"}},
}

var (
	rosterSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	rosterGiven    = []string{"雨涵", "欣怡", "梓萱", "思彤", "佳怡", "可馨", "紫涵", "一诺", "子涵", "浩然", "宇轩", "晨曦", "雅琪", "梦瑶", "诗琪", "俊杰"}
)

// Rosters uploads and commits one roster per demo college, as the college
// does (DESIGN §5.5): twelve graduates each, one of them asking for the
// BYS-GQ plan, and one row with an ID number Excel damaged, so the error
// report has something to show. A college that has imports is left alone.
// Errors: those of rosters.Service.Upload and Commit; NotFound user_not_found without the college logins.
func Rosters(ctx context.Context, s Services) error {
	for i, d := range demoRosters {
		p, err := s.principal(ctx, d.username)
		if err != nil {
			return err
		}
		has, err := s.Rosters.HasImports(ctx, p.OrgID)
		if err != nil || has {
			if err != nil {
				return fmt.Errorf("demo roster of %s: %w", d.username, err)
			}
			continue
		}
		im, err := s.Rosters.Upload(ctx, p, rosters.UploadInput{FileName: d.file, Data: demoCSV(d, uint64(i+1), s.Now())})
		if err != nil {
			return fmt.Errorf("demo roster of %s: upload: %w", d.username, err)
		}
		if _, err := s.Rosters.Commit(ctx, p, im.ID); err != nil {
			return fmt.Errorf("demo roster of %s: commit: %w", d.username, err)
		}
	}
	return nil
}

// demoCSV writes a college's demo roster, the same every time for the same
// seed.
func demoCSV(d demoRoster, seed uint64, now time.Time) []byte {
	r := rand.New(rand.NewPCG(2026, seed))
	var b strings.Builder
	b.WriteString("序号,姓名,身份证号码,性别,手机号码,学历,专业,毕业年份,培训计划编号\r\n")
	year := now.Year()
	for i := range 12 {
		sex := workers.SexFemale
		if i%5 == 4 {
			sex = workers.SexMale
		}
		birth := time.Date(year-21-r.IntN(3), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		id := workers.GenerateID(r, d.areas[r.IntN(len(d.areas))], birth, sex)
		if i == 11 {
			id = id[:1] + "." + id[1:6] + "E+17" // what Excel shows for an ID typed into a number cell
		}
		name := string(rosterSurnames[r.IntN(len(rosterSurnames))]) + rosterGiven[r.IntN(len(rosterGiven))]
		plan := ""
		if i == 0 {
			plan = "BYS-GQ"
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s,1%d%08d,大专,%s,%d,%s\r\n", i+1, name, id, sex.Label(),
			[]int{35, 37, 38, 39, 50, 58}[r.IntN(6)], r.IntN(100_000_000), d.majors[i%len(d.majors)], year, plan)
	}
	return []byte(b.String())
}
