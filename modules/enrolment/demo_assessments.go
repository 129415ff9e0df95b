package enrolment

import (
	"context"
	"fmt"

	"tuoyu/modules/accounts"
)

// SeedDemoEndedClass adds for provider p a class of plan that ran from
// start to end days from today, with workers ws enrolled and all but the
// last two (who fall ill) completing, then finished — built through the
// use cases at the dates they would have happened. name holds one %s for
// the city. It returns the class; when a class of that name exists already
// it returns that one and changes nothing.
func (s *Service) SeedDemoEndedClass(ctx context.Context, p *accounts.Principal, plan, name, city, region, place string, start, end int, ws []int64) (Class, error) {
	full := fmt.Sprintf(name, city)
	var c Class
	exists, err := s.db.NewSelect().Model(&c).Where("cl.provider_org_id = ? AND cl.name = ?", p.OrgID, full).Exists(ctx)
	if err != nil {
		return c, err
	}
	if exists {
		return c, s.db.NewSelect().Model(&c).Where("cl.provider_org_id = ? AND cl.name = ?", p.OrgID, full).Limit(1).Scan(ctx)
	}
	dc := demoClass{plan: plan, name: name, start: start, end: end, capacity: 30, state: StateCompleted, workers: len(ws), hours: true}
	if err := s.seedClass(ctx, p, city, region, place, dc, ws, s.today()); err != nil {
		return Class{}, err
	}
	err = s.db.NewSelect().Model(&c).Where("cl.provider_org_id = ? AND cl.name = ?", p.OrgID, full).Scan(ctx)
	return c, err
}

// DemoFreeWorkers returns up to n unbanned demo workers who are in no class
// yet, so a demo class can take them whatever its dates.
func (s *Service) DemoFreeWorkers(ctx context.Context, n int) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().TableExpr("workers AS w").Column("w.id").
		Where("NOT w.banned AND NOT EXISTS (SELECT 1 FROM enrolments AS en WHERE en.worker_id = w.id)").
		Where("NOT EXISTS (SELECT 1 FROM users AS u WHERE u.worker_id = w.id)").
		OrderExpr("w.id DESC").Limit(int64(n)).Scan(ctx, &ids)
	return ids, err
}
