package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/certificates"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
)

// demoCertNames are the workers of the demo's certificate class; one name
// holds 𠮷 (U+20BB7), a character outside the BMP, as DESIGN §5.5 asks.
var demoCertNames = []string{"吉𠮷", "周雨桐", "吴思琪", "郑欣怡", "王梓涵", "冯佳怡", "陈诗涵", "褚雅婷", "卫婉清",
	"蒋静怡", "沈梦瑶", "韩雨欣", "杨紫萱", "朱可馨", "秦语嫣", "尤晓雯", "许慧敏", "何嘉怡", "吕梦琪", "施雪莹",
	"张晓燕", "孔令芳", "曹丽娟", "严淑珍", "华秀英", "金桂兰", "魏春梅", "陶玉兰", "姜海燕", "戚美玲",
	"谢红梅", "邹丽华", "喻晓丽", "柏彩霞", "水秀兰", "窦凤英", "章建华", "云丽萍", "苏晓红", "潘雪梅"}

// seedDemoCertificates gives the demo world its certificates (DESIGN §5.5):
// a finished in-service class of provider1 whose 40 workers all complete
// (among them 吉𠮷), then a certificate for every completed enrolment of
// the demo (worker1's included), and one revoked by provider1. It does
// nothing when certificates exist.
func (a *App) seedDemoCertificates(ctx context.Context) error {
	if n, err := a.DB.NewSelect().Table("certificates").Count(ctx); err != nil || n > 0 {
		return err
	}
	p1, err := a.Accounts.PrincipalByUsername(ctx, "provider1")
	if err != nil {
		return err
	}
	if err := a.seedDemoCertificateClass(ctx, &p1); err != nil {
		return fmt.Errorf("certificate class: %w", err)
	}
	var first certificates.Certificate
	store := enrolment.NewStore(a.DB)
	for after := int64(0); ; {
		cs, err := store.Completions(ctx, after, 500)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		var ins []certificates.IssueInput
		for _, c := range cs {
			ins = append(ins, certificates.IssueInput{WorkerID: c.WorkerID, EnrolmentID: c.EnrolmentID, ClassID: c.ClassID,
				ProviderOrgID: c.ProviderOrgID, PlanCode: c.PlanCode, PassedOn: c.CompletedOn})
			after = c.EnrolmentID
		}
		if _, err := a.Certificates.CatchUp(ctx, ins); err != nil {
			return err
		}
	}
	w1, _ := a.Accounts.PrincipalByUsername(ctx, "worker1")
	list, _, err := a.Certificates.List(ctx, &p1, certificates.Filter{Limit: 200})
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.WorkerID != w1.WorkerID && c.Status == certificates.StatusValid {
			first = c
			break
		}
	}
	if first.ID == 0 {
		return fmt.Errorf("no demo certificate of provider1 to revoke")
	}
	_, err = a.Certificates.Revoke(ctx, &p1, first.ID, certificates.RevokeInput{
		ReasonCategory: certificates.ReasonIssuedInError, Note: "学时记录录入有误，核实后重新发证"})
	return err
}

// seedDemoCertificateClass builds a class of provider1 that ended a month
// ago, through the same use cases as production, on a clock set back.
func (a *App) seedDemoCertificateClass(ctx context.Context, p *accounts.Principal) error {
	today := a.Now().In(a.Config.Location)
	day := func(n int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day(), 10, 0, 0, 0, a.Config.Location).AddDate(0, 0, n)
	}
	at := func(n int) *enrolment.Service {
		t := day(n)
		return enrolment.NewService(a.DB, a.Catalog, a.Cipher, func() time.Time { return t }, a.Config.Location)
	}
	r := rand.New(rand.NewPCG(20261203, 11))
	var ids []int64
	for i, name := range demoCertNames {
		birth := time.Date(1988+i%12, time.Month(1+i%12), 1+i%27, 0, 0, 0, 0, time.UTC)
		sex := workers.SexFemale
		w, err := a.Workers.Register(ctx, p, workers.RegisterInput{Name: name,
			IDNumber: workers.GenerateID(r, "420106", birth, sex)})
		if err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
		ids = append(ids, w.ID)
	}
	early := at(-75)
	c, err := early.CreateClass(ctx, p, enrolment.ClassInput{PlanCode: "BYS-ZG", Name: "武汉 保育师在岗培训（已结业·已发证）",
		StartsOn: day(-45).Format(time.DateOnly), EndsOn: day(-30).Format(time.DateOnly), Capacity: 45,
		Region: "420106", Place: "武汉市武昌区中北路托育实训基地"})
	if err != nil {
		return err
	}
	if _, err := early.Open(ctx, p, c.ID); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := early.Enrol(ctx, p, c.ID, id); err != nil {
			return err
		}
	}
	if _, err := at(-45).Start(ctx, p, c.ID); err != nil {
		return err
	}
	last := at(-30)
	_, roster, err := last.ClassRoster(ctx, p, c.ID)
	if err != nil {
		return err
	}
	var entries []enrolment.AttendanceEntry
	for _, v := range roster {
		for _, cp := range v.Progress.Courses {
			entries = append(entries, enrolment.AttendanceEntry{Row: len(entries) + 1, EnrolmentID: v.ID, CourseID: cp.CourseID, Hours: cp.Max})
		}
	}
	if _, err := last.RecordAttendance(ctx, p, c.ID, entries, enrolment.AttendanceForm); err != nil {
		return err
	}
	_, err = last.Finish(ctx, p, c.ID)
	return err
}
