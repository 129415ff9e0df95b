package orgs

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

// Service holds the organisation use cases.
type Service struct{ db *bun.DB }

// NewService returns the orgs service.
func NewService(db *bun.DB) *Service { return &Service{db: db} }

// Regions lists every region. Errors: only internal ones (database).
func (s *Service) Regions(ctx context.Context) ([]Region, error) { return NewStore(s.db).Regions(ctx) }

// CheckRegion returns an Invalid error naming field when code is not a known
// region, for other modules' validation. Errors: Invalid unknown_region.
func CheckRegion(ctx context.Context, idb bun.IDB, field, code string) error {
	if _, err := NewStore(idb).RegionByCode(ctx, code); err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return apperr.Invalid("unknown_region", "行政区划代码不存在",
				apperr.FieldError{Field: field, Code: "unknown_region", Message: "行政区划代码「" + code + "」不存在"})
		}
		return err
	}
	return nil
}

// ByID returns an organisation. Errors: NotFound.
func (s *Service) ByID(ctx context.Context, id int64) (Organisation, error) {
	return NewStore(s.db).ByID(ctx, id)
}

// ByCode returns an organisation. Errors: NotFound.
func (s *Service) ByCode(ctx context.Context, code string) (Organisation, error) {
	return NewStore(s.db).ByCode(ctx, code)
}

// List lists organisations of a kind (all when empty). Errors: only internal ones (database).
func (s *Service) List(ctx context.Context, kind string, page, perPage int) ([]Organisation, int, error) {
	return NewStore(s.db).List(ctx, kind, perPage, (page-1)*perPage)
}

// Create checks and stores an organisation. Errors: Invalid, Conflict.
func (s *Service) Create(ctx context.Context, in Input) (Organisation, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return Organisation{}, err
	}
	o := Organisation{Code: in.Code, Name: in.Name, Kind: in.Kind, RegionCode: in.RegionCode, USCC: in.USCC, SiteCode: in.SiteCode, Active: true}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := CheckRegion(ctx, tx, "region_code", in.RegionCode); err != nil {
			return err
		}
		if err := NewStore(tx).Insert(ctx, &o); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "orgs.create", TargetType: "organisation",
			TargetID: strconv.FormatInt(o.ID, 10), Summary: map[string]any{"code": o.Code, "kind": o.Kind, "region": o.RegionCode}})
	})
	return o, err
}

// Update changes an organisation's name, region, codes and active flag.
// Errors: NotFound, Invalid, Conflict.
func (s *Service) Update(ctx context.Context, id int64, in Input, active bool) (Organisation, error) {
	in.Normalize()
	var o Organisation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		var err error
		if o, err = st.ByID(ctx, id); err != nil {
			return err
		}
		in.Code, in.Kind = o.Code, o.Kind
		if err := in.Validate(); err != nil {
			return err
		}
		if err := CheckRegion(ctx, tx, "region_code", in.RegionCode); err != nil {
			return err
		}
		changed := []string{}
		if o.Name != in.Name {
			changed = append(changed, "name")
		}
		if o.RegionCode != in.RegionCode {
			changed = append(changed, "region_code")
		}
		if o.USCC != in.USCC {
			changed = append(changed, "uscc")
		}
		if o.SiteCode != in.SiteCode {
			changed = append(changed, "site_code")
		}
		if o.Active != active {
			changed = append(changed, "active")
		}
		o.Name, o.RegionCode, o.USCC, o.SiteCode, o.Active = in.Name, in.RegionCode, in.USCC, in.SiteCode, active
		if err := st.Update(ctx, &o); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "orgs.update", TargetType: "organisation",
			TargetID: strconv.FormatInt(o.ID, 10), Summary: map[string]any{"changed": changed}})
	})
	return o, err
}

// Ensure creates the organisation when its code is new and returns it
// either way (idempotent demo seeding).
// Errors: Invalid invalid_organisation; Conflict organisation_exists.
func (s *Service) Ensure(ctx context.Context, in Input) (Organisation, error) {
	in.Normalize()
	if o, err := s.ByCode(ctx, in.Code); err == nil {
		return o, nil
	}
	return s.Create(ctx, in)
}
