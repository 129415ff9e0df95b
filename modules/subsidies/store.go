package subsidies

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"tuoyu/modules/accounts"

	"github.com/uptrace/bun"
)

// Parameter sources.
const (
	SourceDefault = "default" // loaded from defaults/parameters.json
	SourceAdmin   = "admin"   // entered by an admin on the parameters page
)

// StoredParam is a row of policy_parameters: a Param with who entered it
// and when. Rows are append-only (a database trigger refuses changes).
type StoredParam struct {
	bun.BaseModel `bun:"table:policy_parameters,alias:pp"`

	ID            int64           `bun:"id,pk,autoincrement"`
	Name          string          `bun:"name"`
	RegionCode    string          `bun:"region_code"`
	EffectiveFrom Date            `bun:"effective_from,type:date"`
	EffectiveTo   Date            `bun:"effective_to,type:date,nullzero"`
	ValueJSON     json.RawMessage `bun:"value,type:jsonb"`
	Reference     string          `bun:"reference"`
	Example       bool            `bun:"example"`
	Source        string          `bun:"source"`
	Note          string          `bun:"note"`
	EnteredBy     int64           `bun:"entered_by,nullzero"`
	EnteredAt     time.Time       `bun:"entered_at,nullzero,default:now()"`
	// EnteredByName is the username of EnteredBy, filled by History.
	EnteredByName string `bun:"entered_by_name,scanonly"`
}

// Param returns the engine's view of the row.
func (sp StoredParam) Param() Param {
	p := Param{Name: sp.Name, Region: sp.RegionCode, EffectiveFrom: sp.EffectiveFrom,
		Value: sp.ValueJSON, Reference: sp.Reference, Example: sp.Example}
	if !sp.EffectiveTo.IsZero() {
		to := sp.EffectiveTo
		p.EffectiveTo = &to
	}
	return p
}

// Store reads and appends policy_parameters rows.
type Store struct{ db bun.IDB }

// NewStore returns a store on db (the database or a transaction).
func NewStore(db bun.IDB) *Store { return &Store{db: db} }

// All returns every row in entry order (id), so later entries win ties.
// Errors: only internal ones (database).
func (s *Store) All(ctx context.Context) ([]StoredParam, error) {
	var rows []StoredParam
	err := s.db.NewSelect().Model(&rows).
		ColumnExpr("pp.*").ColumnExpr("? AS entered_by_name", accounts.Username("pp.entered_by")).
		OrderExpr("pp.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list policy parameters: %w", err)
	}
	return rows, nil
}

// Insert appends one row. Errors: only internal ones (database).
func (s *Store) Insert(ctx context.Context, sp *StoredParam) error {
	if _, err := s.db.NewInsert().Model(sp).Returning("id, entered_at").Exec(ctx); err != nil {
		return fmt.Errorf("insert policy parameter %s: %w", sp.Name, err)
	}
	return nil
}

// InsertDefault appends a default row unless one with the same name, region
// and start date is there; it reports whether it inserted. Errors: only internal ones (database).
func (s *Store) InsertDefault(ctx context.Context, sp *StoredParam) (bool, error) {
	res, err := s.db.NewInsert().Model(sp).
		On("CONFLICT (name, region_code, effective_from) WHERE source = 'default' DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("insert default parameter %s: %w", sp.Name, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Default returns the default row of a name, region and start date.
// Errors: only internal ones (database).
func (s *Store) Default(ctx context.Context, name, region string, from Date) (StoredParam, error) {
	var sp StoredParam
	err := s.db.NewSelect().Model(&sp).
		Where("pp.name = ? AND pp.region_code = ? AND pp.effective_from = ? AND pp.source = ?", name, region, from, SourceDefault).
		Scan(ctx)
	if err != nil {
		return sp, fmt.Errorf("default parameter %s %s %s: %w", name, region, from, err)
	}
	return sp, nil
}

// MaxID returns the id of the newest row (0 when empty); it tells whether
// another instance added a value since the set was built. Errors: only internal ones (database).
func (s *Store) MaxID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.NewSelect().Table("policy_parameters").ColumnExpr("coalesce(max(id), 0)").Scan(ctx, &id)
	if err != nil {
		return 0, fmt.Errorf("newest policy parameter: %w", err)
	}
	return id, nil
}
