package enrolment

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/audit"
	"tuoyu/modules/classes"
	"tuoyu/modules/notify"
)

// Withdrawn is a place a ban ended: the enrolment, its class, what it was
// and who took the place (0: nobody).
type Withdrawn struct {
	EnrolmentID int64  `json:"enrolment_id"`
	ClassID     int64  `json:"class_id"`
	Was         Status `json:"was"`
	Promoted    int64  `json:"promoted_enrolment_id"`
}

// WithdrawBanned ends every place worker workerID holds or waits for
// (enrolled or waitlisted) inside tx, the transaction in which p records
// their ban:
// each freed place goes to the next unbanned worker on that class's waiting
// list, every waiting list is numbered again, each withdrawal is audited
// with p as actor and the class's provider is told, in words that do not
// name the ban. Completed enrolments stay: they are history. The worker's
// row is locked by the caller before the classes, the order enrolling
// keeps. Errors: none of its own (database failures only).
func (s *Service) WithdrawBanned(ctx context.Context, tx bun.IDB, p *accounts.Principal, workerID int64) ([]Withdrawn, error) {
	st := NewStore(tx)
	places, err := st.ActivePlaces(ctx, workerID)
	if err != nil {
		return nil, err
	}
	var out []Withdrawn
	for _, pl := range places {
		c, err := classes.NewStore(tx).Lock(ctx, pl.ClassID)
		if err != nil {
			return nil, err
		}
		e, err := st.Lock(ctx, pl.ID)
		if err != nil {
			return nil, err
		}
		if e.Status != StatusEnrolled && e.Status != StatusWaitlisted {
			continue
		}
		w := Withdrawn{EnrolmentID: e.ID, ClassID: c.ID, Was: e.Status}
		if w.Promoted, err = leave(ctx, tx, c, &e); err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "enrolments.withdraw_banned", TargetType: "enrolment", TargetID: strconv.FormatInt(e.ID, 10),
			Summary: map[string]any{"class_id": c.ID, "worker_id": workerID, "was": string(w.Was),
				"promoted_enrolment_id": w.Promoted, "reason": "banned"},
		}); err != nil {
			return nil, err
		}
		if err := tellProvider(ctx, tx, c, w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// tellProvider notifies the users of class c's provider that a place was
// withdrawn; like a roster row, it says only that the person cannot take
// part, never why.
func tellProvider(ctx context.Context, tx bun.IDB, c classes.Class, w Withdrawn) error {
	users, err := accounts.NewStore(tx).ActiveUserIDs(ctx, c.ProviderOrgID)
	if err != nil {
		return err
	}
	body := fmt.Sprintf("报名编号 %d 的学员已无法参加培训班「%s」，其报名（%s）已撤销，详情请联系属地卫健部门。", w.EnrolmentID, c.Name, w.Was.Label())
	if w.Promoted != 0 {
		body += fmt.Sprintf("空出的名额已由候补学员（报名编号 %d）递补。", w.Promoted)
	}
	msgs := make([]notify.Message, 0, len(users))
	for _, u := range users {
		msgs = append(msgs, notify.Message{UserID: u, Kind: "enrolments.withdrawn", Title: "学员报名已撤销",
			Body: body, Link: "/classes/" + strconv.FormatInt(c.ID, 10)})
	}
	return notify.Send(ctx, tx, msgs...)
}
