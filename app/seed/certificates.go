package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/certificates"
	"tuoyu/modules/classes"
	"tuoyu/modules/workers"
)

// demoCertNames are the workers of the demo's certificate class; one name
// holds 𠮷 (U+20BB7), a character outside the BMP, as DESIGN §5.5 asks.
var demoCertNames = []string{"吉𠮷", "周雨桐", "吴思琪", "郑欣怡", "王梓涵", "冯佳怡", "陈诗涵", "褚雅婷", "卫婉清",
	"蒋静怡", "沈梦瑶", "韩雨欣", "杨紫萱", "朱可馨", "秦语嫣", "尤晓雯", "许慧敏", "何嘉怡", "吕梦琪", "施雪莹",
	"张晓燕", "孔令芳", "曹丽娟", "严淑珍", "华秀英", "金桂兰", "魏春梅", "陶玉兰", "姜海燕", "戚美玲",
	"谢红梅", "邹丽华", "喻晓丽", "柏彩霞", "水秀兰", "窦凤英", "章建华", "云丽萍", "苏晓红", "潘雪梅",
	"葛文静", "范晓琳", "彭丽君", "鲁雅琴", "马婉婷"}

// certClassName is the demo's finished BYS-ZG class whose 45 workers all
// complete, among them 吉𠮷.
const certClassName = "武汉 保育师在岗培训（已结业·已发证）"

// Certificates gives the demo world its certificates (DESIGN §5.5) by the
// rules of DESIGN §7: the chain issues them as the demo happens — a pass of
// an assessed plan through OnPass (the assessments seed), a completion of a
// plan without assessment (BYS-ZG) through the completion hook. This seed
// adds the finished in-service class of provider1 whose 45 workers all
// complete (their certificates come with the lessons), catches up whatever
// the rules give and the chain missed, and revokes one. It does nothing
// when the class exists.
func Certificates(ctx context.Context, s Services) error {
	p1, err := s.principal(ctx, "provider1")
	if err != nil {
		return err
	}
	done, err := training{s}.hasClass(ctx, p1, "BYS-ZG", certClassName)
	if err != nil || done {
		return err
	}
	if err := certificateClass(ctx, s, p1); err != nil {
		return fmt.Errorf("certificate class: %w", err)
	}
	if err := issueByRules(ctx, s); err != nil {
		return err
	}
	return revokeOne(ctx, s, p1)
}

// issueByRules issues what the rules give and nobody holds yet: passes,
// and completions of plans without assessment (the certificates.issue
// job's selection).
func issueByRules(ctx context.Context, s Services) error {
	passes, err := s.Assessments.PassesExcept(ctx, time.Time{}, certificates.Certified(s.DB), 0)
	if err != nil {
		return err
	}
	comps, err := s.Enrolment.CompletionsWithout(ctx, certificates.Certified(s.DB), 10000)
	if err != nil {
		return err
	}
	ins := make([]certificates.IssueInput, 0, len(passes)+len(comps))
	for _, p := range passes {
		ins = append(ins, certificates.IssueInput{WorkerID: p.WorkerID, EnrolmentID: p.EnrolmentID, ClassID: p.ClassID,
			ProviderOrgID: p.ProviderOrgID, PlanCode: p.PlanCode, PassedOn: p.PassedOn})
	}
	for _, c := range comps {
		ins = append(ins, certificates.IssueInput{WorkerID: c.WorkerID, EnrolmentID: c.EnrolmentID, ClassID: c.ClassID,
			ProviderOrgID: c.ProviderOrgID, PlanCode: c.PlanCode, PassedOn: c.CompletedOn})
	}
	_, err = s.Certificates.CatchUp(ctx, ins)
	return err
}

// revokeOne revokes a valid certificate of provider1 that is not worker1's
// (the demo shows a revoked one).
func revokeOne(ctx context.Context, s Services, p1 *accounts.Principal) error {
	var worker1 int64
	if w1, err := s.Accounts.PrincipalByUsername(ctx, "worker1"); err == nil {
		worker1 = w1.WorkerID
	}
	list, _, err := s.Certificates.List(ctx, p1, certificates.Filter{Limit: 200})
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.WorkerID != worker1 && c.Status == certificates.StatusValid {
			_, err = s.Certificates.Revoke(ctx, p1, c.ID, certificates.RevokeInput{
				ReasonCategory: certificates.ReasonIssuedInError, Note: "学时记录录入有误，核实后重新发证"})
			return err
		}
	}
	return fmt.Errorf("no demo certificate of provider1 to revoke")
}

// certificateClass builds a class of provider1 that ended a month ago,
// through the same use cases as production, on clocks set to the days
// things happened.
func certificateClass(ctx context.Context, s Services, p *accounts.Principal) error {
	today := s.Classes.Today()
	day := func(n int) time.Time { return today.AddDate(0, 0, n).Add(2 * time.Hour) }
	r := rand.New(rand.NewPCG(20261203, 11))
	var ids []int64
	for i, name := range demoCertNames {
		birth := time.Date(1988+i%12, time.Month(1+i%12), 1+i%27, 0, 0, 0, 0, time.UTC)
		w, err := s.Workers.Register(ctx, p, workers.RegisterInput{Name: name,
			IDNumber: workers.GenerateID(r, "420106", birth, workers.SexFemale)})
		if err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
		ids = append(ids, w.ID)
	}
	early := day(-75)
	c, err := s.Classes.At(early).Create(ctx, p, classes.Input{PlanCode: "BYS-ZG", Name: certClassName,
		StartsOn: day(-50).Format(time.DateOnly), EndsOn: day(-30).Format(time.DateOnly), Capacity: 50,
		Region: "420106", Place: "武汉市武昌区中北路托育实训基地"})
	if err != nil {
		return err
	}
	enr := s.Enrolment.At(early)
	if _, err := enr.Open(ctx, p, c.ID); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := enr.Enrol(ctx, p, c.ID, id); err != nil {
			return err
		}
	}
	if _, err := s.Enrolment.At(day(-50)).Start(ctx, p, c.ID); err != nil {
		return err
	}
	if err := seedDemoHours(ctx, s.Attendance.At(day(-30)), p, c, true, nil); err != nil {
		return err
	}
	_, err = s.Classes.At(day(-30)).Finish(ctx, p, c.ID)
	return err
}
