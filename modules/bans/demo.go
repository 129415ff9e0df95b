package bans

import (
	"context"
	"fmt"

	"tuoyu/modules/accounts"
)

// demoDecision is the decision number of the demo ban.
const demoDecision = "武卫监罚〔2026〕7号"

// demoManagerID is the demo manager's ID number (valid, generated once; not
// a worker).
const demoManagerID = "420103197805120021"

// SeedDemo records the demo ban: a worker (name and ID number given by the
// workers seed) and one direct manager, recorded by the given regulator. It
// does nothing when the decision is already recorded.
func (s *Service) SeedDemo(ctx context.Context, regulator *accounts.Principal, name, idNumber string) error {
	done, err := s.DecisionRecorded(ctx, demoDecision)
	if err != nil || done {
		return err
	}
	_, err = s.Record(ctx, regulator, RecordInput{
		Person:     Person{Name: name, IDNumber: idNumber},
		Reason:     "在托育机构工作期间多次殴打、恐吓婴幼儿，情节恶劣",
		DecisionNo: demoDecision, DecidedOn: "2026-05-20", RegionCode: "420100",
		Managers: []Person{{Name: "钱主任", IDNumber: demoManagerID}},
	})
	if err != nil {
		return fmt.Errorf("seed demo ban: %w", err)
	}
	return nil
}
