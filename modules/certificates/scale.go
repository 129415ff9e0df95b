package certificates

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
)

// ScaleResult counts what IssueScale wrote, and how long its parts took.
type ScaleResult struct {
	Issued, Revoked, Expired int
	Draft, Sign, Copy        time.Duration
}

// ScaleNumbers hands out certificate numbers to IssueScale calls that run
// at once in different transactions: per prefix on from the counter as
// the first of them read it, so two chunks never draw the same number.
// Each transaction raises the counters to the last number it used; a
// chunk rolled back leaves a gap, never a duplicate. Safe for concurrent
// use.
type ScaleNumbers struct {
	mu   sync.Mutex
	last map[string]int64
}

// NewScaleNumbers reads the counters. Errors: only internal ones (database).
func NewScaleNumbers(ctx context.Context, db bun.IDB) (*ScaleNumbers, error) {
	last, err := lastSerials(ctx, db)
	if err != nil {
		return nil, err
	}
	return &ScaleNumbers{last: last}, nil
}

// assign numbers rows in their order and returns per prefix the last
// number given.
func (n *ScaleNumbers) assign(rows []scaleRow) map[string]int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	used := map[string]int64{}
	for i := range rows {
		r := &rows[i]
		v := n.last[r.Prefix] + 1
		n.last[r.Prefix] = v
		used[r.Prefix] = v
		digits := 8
		if r.Level != nil {
			digits = 6
		}
		r.Number = fmt.Sprintf("%s%0*d", r.Prefix, digits, v)
	}
	return used
}

// IssueScale issues, inside the caller's transaction tx on conn, the
// certificates of the enrolments src.Certified selects that have none:
// numbered by numbers (the counters raised to the last number used),
// each with a fresh verify code and signed with the current key, written
// with one COPY. No PDF is rendered: pdf_sha256 is a digest of the number,
// so a downloaded PDF renders afresh and verifies by code, not by file.
// One in 200 is revoked (issued_in_error) a month after issue; an
// in-service certificate past its validity is expired. The scale seed's
// verb: what Issue does one at a time, for a million. Errors: only
// internal ones (database, random source).
func (s *Service) IssueScale(ctx context.Context, conn bun.Conn, tx bun.Tx, src ScaleSources, numbers *ScaleNumbers) (ScaleResult, error) {
	start := time.Now()
	rows, err := scaleDrafts(ctx, tx, src)
	if err != nil || len(rows) == 0 {
		return ScaleResult{}, err
	}
	last := numbers.assign(rows)
	drafted := time.Now()
	t, err := NewStore(tx).CurrentTemplate(ctx)
	if err != nil {
		return ScaleResult{}, err
	}
	signer := s.cfg.Signer
	if err := NewStore(tx).EnsureKey(ctx, signer.KeyID, signer.Public()); err != nil {
		return ScaleResult{}, err
	}
	cs, res, err := s.scaleCertificates(ctx, rows, t.ID)
	if err != nil {
		return ScaleResult{}, err
	}
	s.signAll(cs)
	signed := time.Now()
	if err := copyScale(ctx, conn, cs); err != nil {
		return ScaleResult{}, fmt.Errorf("copy scale certificates: %w", err)
	}
	res.Draft, res.Sign, res.Copy = drafted.Sub(start), signed.Sub(drafted), time.Since(signed)
	return res, raiseSerials(ctx, tx, last)
}

// scaleCertificates turns draft rows into certificates: kind, expiry,
// status, verify code and link, digest; not yet signed.
func (s *Service) scaleCertificates(ctx context.Context, rows []scaleRow, templateID int64) ([]Certificate, ScaleResult, error) {
	today, now := s.today(), s.now().UTC().Truncate(time.Second)
	years := map[string]int{} // validity by region and year of issue
	cs := make([]Certificate, len(rows))
	var res ScaleResult
	for i, r := range rows {
		hours := r.Hours
		c := Certificate{Kind: KindTraining, Source: SourceIssued, Number: r.Number, WorkerID: r.WorkerID,
			EnrolmentID: r.EnrolmentID, ClassID: r.ClassID, ProviderOrgID: r.ProviderOrgID, RegionCode: r.RegionCode,
			PlanCode: r.PlanCode, PlanName: r.PlanName, Occupation: r.Occupation, Level: r.Level, Hours: &hours,
			HolderName: r.HolderName, HolderIDMask: r.HolderIDMask, IssuerName: r.IssuerName, IssuedOn: r.IssuedOn,
			IssuedAt: now, TemplateID: templateID, Status: StatusValid}
		if r.Level != nil {
			c.Kind = KindSkill
		} else if r.Purpose == string(catalog.PurposeInService) {
			key := r.RegionCode + r.IssuedOn.Format("2006")
			y, ok := years[key]
			if !ok {
				var err error
				if y, err = s.cfg.ValidYears(ctx, r.RegionCode, r.IssuedOn); err != nil {
					return nil, res, err
				}
				years[key] = y
			}
			exp := r.IssuedOn.AddDate(y, 0, 0)
			c.ExpiresOn = &exp
			if exp.Before(today) {
				c.Status = StatusExpired
				res.Expired++
			}
		}
		if r.EnrolmentID%200 == 17 && c.Status == StatusValid {
			on := r.IssuedOn.AddDate(0, 1, 0)
			c.Status, c.RevokedOn, c.RevokeReason = StatusRevoked, &on, ReasonIssuedInError
			res.Revoked++
		}
		code, err := NewVerifyCode(nil)
		if err != nil {
			return nil, res, err
		}
		c.VerifyCode = code
		c.VerifyURL = strings.TrimRight(s.cfg.BaseURL, "/") + "/verify/" + code
		sum := sha256.Sum256([]byte("scale:" + c.Number))
		c.PDFSHA256 = sum[:]
		cs[i] = c
	}
	res.Issued = len(cs)
	return cs, res, nil
}

// signAll signs cs on two goroutines (the machine's cores): Ed25519 is
// most of the Go side's time at a million certificates.
func (s *Service) signAll(cs []Certificate) {
	signer := s.cfg.Signer
	var wg sync.WaitGroup
	half := len(cs) / 2
	for _, part := range [][]Certificate{cs[:half], cs[half:]} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range part {
				part[i].KeyID = signer.KeyID
				part[i].Signature = signer.Sign(answerOf(part[i]))
			}
		}()
	}
	wg.Wait()
}
