package seed

import (
	"context"
	"fmt"

	"tuoyu/modules/bans"
)

// demoDecision is the decision number of the demo ban.
const demoDecision = "武卫监罚〔2026〕7号"

// demoManagerID is the demo manager's ID number (valid, generated once; not
// a worker).
const demoManagerID = "420103197805120021"

// Ban records the demo ban, as regulator1 does: the last demo worker (see
// BannedWorker) and one direct manager. It does nothing when the decision
// is already recorded. Errors: those of bans.Service.Record and workers.Service.Nth.
func Ban(ctx context.Context, s Services) error {
	done, err := s.Bans.DecisionRecorded(ctx, demoDecision)
	if err != nil || done {
		return err
	}
	reg, err := s.principal(ctx, "regulator1")
	if err != nil {
		return err
	}
	name, idNumber, err := BannedWorker(ctx, s)
	if err != nil {
		return err
	}
	_, err = s.Bans.Record(ctx, reg, bans.RecordInput{
		Person:     bans.Person{Name: name, IDNumber: idNumber},
		Reason:     "在托育机构工作期间多次殴打、恐吓婴幼儿，情节恶劣",
		DecisionNo: demoDecision, DecidedOn: "2026-05-20", RegionCode: "420100",
		Managers: []bans.Person{{Name: "钱主任", IDNumber: demoManagerID}},
	})
	if err != nil {
		return fmt.Errorf("seed demo ban: %w", err)
	}
	return nil
}

// BannedWorker returns the name and ID number of the person the demo ban is
// about: the last of the demo workers, so the ban falls on a worker.
// Errors: NotFound worker_not_found before the workers are seeded.
func BannedWorker(ctx context.Context, s Services) (name, idNumber string, err error) {
	w, idNumber, err := s.Workers.Nth(ctx, DemoWorkers-1)
	if err != nil {
		return "", "", err
	}
	return w.Name, idNumber, nil
}
