package assessments

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/notify"
)

// scheduleWindow bounds how far back the job looks for ended classes: a
// class that ended earlier and still has no sitting was left without one
// on purpose (or predates this module) and is the provider's to schedule.
const scheduleWindow = 60

// scheduleBatch is the number of classes (or closed sittings) per statement.
const scheduleBatch = 1000

// Scheduled counts what a run of the schedule job created.
type Scheduled struct {
	Sittings   int
	Candidates int
}

// plannedSitting is a sitting the job is about to create.
type plannedSitting struct {
	ClassID, ProviderOrgID int64
	Region, Place          string
	Kind                   Kind
	Attempt                int
	Slot                   Slot
	Candidates             []assessedEnrolment
}

// ScheduleDue is the assessments.schedule job: first sittings for classes
// that ended and have none, and re-sits of failed parts. It works in
// batches, a fixed number of statements each, and never creates a class's
// part and attempt twice (a unique constraint and ON CONFLICT DO NOTHING,
// so two instances or a re-run create nothing more).
func (s *Service) ScheduleDue(ctx context.Context) (Scheduled, error) {
	var total Scheduled
	isWorking, err := s.workingDay(ctx)
	if err != nil {
		return total, err
	}
	now := s.now().In(s.loc)
	today := dateOf(now)
	tomorrow := today.AddDate(0, 0, 1)
	for after := int64(0); ; {
		var n Scheduled
		var last int64
		var more bool
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			cs, err := endedClasses(ctx, tx, today.AddDate(0, 0, -scheduleWindow), today.AddDate(0, 0, -1), after, scheduleBatch)
			if err != nil {
				return err
			}
			more = len(cs) == scheduleBatch
			if len(cs) == 0 {
				return nil
			}
			last = cs[len(cs)-1].ID
			ids := make([]int64, 0, len(cs))
			for _, c := range cs {
				if len(KindsOf(c.Assessment)) > 0 {
					ids = append(ids, c.ID)
				}
			}
			ens, err := completedIDs(ctx, tx, ids)
			if err != nil {
				return err
			}
			byClass := map[int64][]assessedEnrolment{}
			for _, e := range ens {
				byClass[e.ClassID] = append(byClass[e.ClassID], e)
			}
			var plan []plannedSitting
			for _, c := range cs {
				if len(byClass[c.ID]) == 0 {
					continue
				}
				for kind, slot := range FirstSittings(c.EndsOn, tomorrow, c.Assessment, isWorking, s.loc) {
					plan = append(plan, plannedSitting{ClassID: c.ID, ProviderOrgID: c.ProviderOrgID, Region: c.RegionCode, Place: c.Place,
						Kind: kind, Attempt: 1, Slot: slot, Candidates: byClass[c.ID]})
				}
			}
			n, err = s.createPlanned(ctx, tx, plan, true)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("schedule first sittings after class %d: %w", after, err)
		}
		total.Sittings += n.Sittings
		total.Candidates += n.Candidates
		if !more {
			break
		}
		after = last
	}
	n, err := s.scheduleResits(ctx, isWorking, tomorrow)
	total.Sittings += n.Sittings
	total.Candidates += n.Candidates
	return total, err
}

// createPlanned inserts planned sittings in one statement and their
// candidates in another. With firstOnly, a class's part that already has
// any sitting (one a provider scheduled by hand) gets none.
func (s *Service) createPlanned(ctx context.Context, tx bun.IDB, plan []plannedSitting, firstOnly bool) (Scheduled, error) {
	var n Scheduled
	if len(plan) == 0 {
		return n, nil
	}
	made, err := NewStore(tx).InsertPlanned(ctx, plan, firstOnly)
	if err != nil {
		return n, err
	}
	type key struct {
		class int64
		kind  Kind
		att   int
	}
	ids := make(map[key]int64, len(made))
	for _, m := range made {
		ids[key{m.ClassID, m.Kind, m.Attempt}] = m.ID
	}
	var cands []newCandidate
	for _, p := range plan {
		id, ok := ids[key{p.ClassID, p.Kind, p.Attempt}]
		if !ok {
			continue
		}
		for _, e := range p.Candidates {
			cands = append(cands, newCandidate{SittingID: id, EnrolmentID: e.ID, WorkerID: e.WorkerID, Start: p.Slot.Start, End: p.Slot.End})
		}
	}
	added, err := NewStore(tx).InsertCandidates(ctx, cands, true)
	if err != nil {
		return n, err
	}
	return Scheduled{Sittings: len(made), Candidates: added}, nil
}

// scheduleResits creates the next attempt of each closed sitting's part for
// candidates who failed it (or were absent) and have attempts left, 14 days
// after it, in batches.
func (s *Service) scheduleResits(ctx context.Context, isWorking func(time.Time) bool, earliest time.Time) (Scheduled, error) {
	var total Scheduled
	for after := int64(0); ; {
		var more bool
		var last int64
		var n Scheduled
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			st := NewStore(tx)
			closed, err := st.ClosedWithoutNext(ctx, s.now().AddDate(0, 0, -scheduleWindow), after, scheduleBatch)
			if err != nil {
				return err
			}
			more = len(closed) == scheduleBatch
			if len(closed) == 0 {
				return nil
			}
			last = closed[len(closed)-1].ID
			classIDs := make([]int64, 0, len(closed))
			for _, c := range closed {
				classIDs = append(classIDs, c.ClassID)
			}
			ens, err := completedIDs(ctx, tx, classIDs)
			if err != nil {
				return err
			}
			eids := make([]int64, len(ens))
			for i, e := range ens {
				eids[i] = e.ID
			}
			results, err := st.ResultsOf(ctx, eids)
			if err != nil {
				return err
			}
			pending, err := st.Pending(ctx, eids)
			if err != nil {
				return err
			}
			parts := partsOf(results, pending)
			byClass := map[int64][]assessedEnrolment{}
			for _, e := range ens {
				byClass[e.ClassID] = append(byClass[e.ClassID], e)
			}
			var plan []plannedSitting
			for _, c := range closed {
				var cands []assessedEnrolment
				for _, e := range byClass[c.ClassID] {
					p := parts[e.ID][c.Kind]
					if !p.Passed && !p.Pending && p.Attempts < e.MaxAttempts && c.Attempt < 9 {
						cands = append(cands, e)
					}
				}
				if len(cands) == 0 {
					continue
				}
				plan = append(plan, plannedSitting{ClassID: c.ClassID, ProviderOrgID: c.ProviderOrgID, Region: c.RegionCode, Place: c.Place,
					Kind: c.Kind, Attempt: c.Attempt + 1, Slot: ResitSlot(c.StartsAt, earliest, c.Kind, isWorking, s.loc), Candidates: cands})
			}
			n, err = s.createPlanned(ctx, tx, plan, false)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("schedule re-sits after sitting %d: %w", after, err)
		}
		total.Sittings += n.Sittings
		total.Candidates += n.Candidates
		if !more {
			return total, nil
		}
		after = last
	}
}

// CloseDue is the assessments.close job: it closes scheduled sittings
// whose candidates all have results, or whose end passed ResultDays days
// ago; candidates then without a result are recorded absent (an attempt
// used). Two statements, whatever the number of sittings.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	var closed int
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		ids, err := st.CloseDue(ctx, s.now(), s.now().AddDate(0, 0, -s.ResultDays))
		if err != nil {
			return err
		}
		closed = len(ids)
		if err := st.RecordAbsences(ctx, ids); err != nil {
			return err
		}
		return nil
	})
	return closed, err
}

// SendReminders is the sitting part of reminders.send: each candidate of a
// scheduled sitting starting in 3 days, and again tomorrow, gets one
// message into the inbox. The dedupe key (sitting, worker, days) makes
// re-runs and a second instance send nothing more.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	now := s.now().In(s.loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.loc)
	sent := 0
	for _, days := range []int{3, 1} {
		from := today.AddDate(0, 0, days)
		rows, err := NewStore(s.db).StartingBetween(ctx, from, from.AddDate(0, 0, 1))
		if err != nil {
			return sent, err
		}
		if len(rows) == 0 {
			continue
		}
		msgs := make([]notify.Message, len(rows))
		when := "3 天后"
		if days == 1 {
			when = "明天"
		}
		for i, r := range rows {
			msgs[i] = notify.Message{WorkerID: r.WorkerID, Kind: "assessments.reminder", Title: "考核提醒：" + when + "参加" + r.Kind.Label() + "考核",
				Body: fmt.Sprintf("%s 开始，地点：%s。请携带身份证准时参加。", timeText(r.StartsAt, s.loc), r.Place), Link: "/me/assessments",
				DedupeKey: fmt.Sprintf("assessments.reminder:%d:%d:%d", r.SittingID, r.WorkerID, days)}
		}
		if err := notify.Send(ctx, s.db, msgs...); err != nil {
			return sent, err
		}
		sent += len(msgs)
	}
	return sent, nil
}
