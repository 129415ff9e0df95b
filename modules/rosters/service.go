package rosters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/bans"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
	"tuoyu/modules/tabular"
	"tuoyu/modules/workers"
)

// batchRows is how many rows are checked against the database and stored
// at a time: large enough for few round trips, small enough for steady
// progress and bounded memory.
const batchRows = 2000

// maxBackground bounds the validations running in the background at once;
// more wait their turn (status validating, progress 0). On two cores two
// are plenty.
const maxBackground = 2

// Service is the roster use cases: upload and validate, preview, commit,
// error report, template.
type Service struct {
	db      *bun.DB
	cipher  *pii.Cipher
	bans    *bans.Service
	catalog *catalog.Service   // nil: plan codes are kept unchecked
	enrol   *enrolment.Service // nil: plan codes are kept, nobody is enrolled
	now     func() time.Time
	log     *slog.Logger

	sem    chan struct{}
	wg     sync.WaitGroup
	base   context.Context // background validations run under it
	cancel context.CancelFunc
}

// NewService returns the roster service. cat and enrol may be nil (plan
// codes are then neither checked nor acted on); now is the clock; logger
// receives background failures.
func NewService(db *bun.DB, cipher *pii.Cipher, bansSvc *bans.Service, cat *catalog.Service,
	enrol *enrolment.Service, now func() time.Time, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	return &Service{db: db, cipher: cipher, bans: bansSvc, catalog: cat, enrol: enrol, now: now, log: logger,
		sem: make(chan struct{}, maxBackground), base: base, cancel: cancel}
}

// Close stops background validations (their imports are marked failed
// with code interrupted) and waits for them to end.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// Wait blocks until no background validation runs (tests, graceful stop).
func (s *Service) Wait() { s.wg.Wait() }

// UploadInput is an uploaded roster file.
type UploadInput struct {
	FileName string
	Data     []byte
	Mode     string // ModeUpsert (default) or ModeAddOnly
	Encoding string // "" (detect), utf-8, gbk, gb18030
}

// Upload stores and validates a roster of p's college; nothing is written
// to workers until Commit. Small files are validated before it returns
// (status validated); files over BackgroundRows rows return at once with
// status validating and are validated in the background. A file that
// cannot be read is refused whole and nothing is stored. Errors:
// Forbidden forbidden_role; Invalid invalid_mode; the tabular codes
// (file_too_large, too_many_rows, xlsx_too_large, empty_file,
// unsupported_file_type, no_header, missing_columns, bad_encoding,
// corrupt_xlsx, malformed_csv).
func (s *Service) Upload(ctx context.Context, p *accounts.Principal, in UploadInput) (*Import, error) {
	if !p.Is(accounts.RoleCollege) || p.OrgID == 0 {
		return nil, apperr.Forbidden("forbidden_role", "只有院校可以上传花名册")
	}
	mode, err := uploadMode(in.Mode)
	if err != nil {
		return nil, err
	}
	name := fileName(in.FileName)
	opts := tabular.Options{Encoding: in.Encoding, Columns: Columns, Required: required}
	t, err := tabular.Open(in.Data, name, opts)
	if err != nil {
		return nil, err
	}
	// A file that may break the row limit is counted first, so it is
	// refused at once rather than failing in the background.
	if t.EstimatedRows() > tabular.MaxRows {
		if err := countRows(in.Data, name, opts); err != nil {
			t.Close()
			return nil, err
		}
	}
	var planCodes map[string]bool
	if s.catalog != nil {
		if planCodes, err = s.catalog.PlanCodes(ctx); err != nil {
			t.Close()
			return nil, err
		}
	}
	sum := sha256.Sum256(in.Data)
	im := &Import{
		CollegeOrgID: p.OrgID, UploadedByUserID: p.UserID, UploadedByTokenID: p.TokenID,
		UploadedBy: uploaderLabel(p), FileName: name, FileSHA256: sum[:], FileSize: int64(len(in.Data)),
		Format: t.Format, Encoding: t.Encoding, Mode: mode, Status: StatusValidating,
		Header: t.Header, HeaderRow: t.HeaderRow,
	}
	if im.Header == nil {
		im.Header = []string{}
	}
	v := &validation{svc: s, im: im, table: t, check: newChecker(t, s.now(), planCodes), college: p.OrgName}
	uploaded := audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "rosters.upload", TargetType: "roster_import"}

	if t.EstimatedRows() <= BackgroundRows {
		defer t.Close()
		err := s.inConnTx(ctx, func(ctx context.Context, conn bun.Conn, tx bun.Tx) error {
			if err := NewStore(tx).Insert(ctx, im); err != nil {
				return err
			}
			if err := v.run(ctx, conn, tx, nil); err != nil {
				return err
			}
			return s.recordUpload(ctx, tx, uploaded, im)
		})
		if err != nil {
			return nil, err
		}
		return im, nil
	}

	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := NewStore(tx).Insert(ctx, im); err != nil {
			return err
		}
		return s.recordUpload(ctx, tx, uploaded, im)
	})
	if err != nil {
		t.Close()
		return nil, err
	}
	s.wg.Add(1)
	snapshot := *im
	go func() {
		defer s.wg.Done()
		defer t.Close()
		s.background(audit.WithRequest(s.base, audit.RequestFrom(ctx)), v)
	}()
	return &snapshot, nil
}

// uploadMode is the import mode asked for, upsert when none. Errors:
// Invalid invalid_mode.
func uploadMode(raw string) (string, error) {
	mode := strings.TrimSpace(raw)
	if mode == "" {
		mode = ModeUpsert
	}
	if mode != ModeUpsert && mode != ModeAddOnly {
		return "", apperr.Invalid("invalid_mode", "导入方式只能是 upsert（新增并更新）或 add_only（仅新增）",
			apperr.FieldError{Field: "mode", Code: "invalid_mode", Message: "导入方式无效"})
	}
	return mode, nil
}

func (s *Service) recordUpload(ctx context.Context, tx bun.Tx, e audit.Event, im *Import) error {
	e.TargetID = strconv.FormatInt(im.ID, 10)
	e.Summary = map[string]any{"file_name": im.FileName, "sha256": im.SHA256(), "size": im.FileSize,
		"mode": im.Mode, "status": im.Status, "rows_total": im.RowsTotal, "rows_invalid": im.RowsInvalid}
	return audit.Record(ctx, tx, e)
}

// background validates a big file under the semaphore and records failure
// on the import, since nobody waits for the error.
func (s *Service) background(ctx context.Context, v *validation) {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		s.fail(v.im.ID, apperr.Conflict("interrupted", "服务停止，校验被中断，请重新上传"))
		return
	}
	st := NewStore(s.db)
	last := -1
	progress := func(done int) {
		pct := min(99, done*100/max(1, v.table.EstimatedRows()))
		if pct != last {
			last = pct
			if err := st.SetProgress(ctx, v.im.ID, pct); err != nil {
				s.log.Warn("roster progress", "import_id", v.im.ID, "err", err)
			}
		}
	}
	err := s.inConnTx(ctx, func(ctx context.Context, conn bun.Conn, tx bun.Tx) error {
		if err := v.run(ctx, conn, tx, progress); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: v.im.UploadedByUserID, ActorOrgID: v.im.CollegeOrgID,
			Action: "rosters.validate", TargetType: "roster_import", TargetID: strconv.FormatInt(v.im.ID, 10),
			Summary: map[string]any{"rows_total": v.im.RowsTotal, "rows_invalid": v.im.RowsInvalid},
		})
	})
	if err == nil {
		return
	}
	if ctx.Err() != nil {
		err = apperr.Conflict("interrupted", "服务停止，校验被中断，请重新上传").Wrap(err)
	}
	s.fail(v.im.ID, err)
}

// inConnTx runs fn in a transaction on one dedicated connection, which fn
// gets too: COPY (pgdriver.CopyFrom) needs the raw connection, and running
// it on the transaction's connection keeps it inside the transaction.
func (s *Service) inConnTx(ctx context.Context, fn func(context.Context, bun.Conn, bun.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get connection: %w", err)
	}
	defer conn.Close()
	return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, conn, tx) })
}

// fail marks import id failed with err's code and message.
func (s *Service) fail(id int64, err error) {
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal {
		s.log.Error("roster validation failed", "import_id", id, "err", err)
		e = apperr.Internal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if uerr := NewStore(s.db).Fail(ctx, id, e.Code, e.Message); uerr != nil {
		s.log.Error("mark roster import failed", "import_id", id, "err", uerr)
	}
}

// FailInterrupted marks imports still validating after maxAge as failed:
// their process stopped mid-way (validation of the largest file takes well
// under a minute). The app calls it at start. Errors: only internal ones (database).
func (s *Service) FailInterrupted(ctx context.Context, maxAge time.Duration) (int, error) {
	return NewStore(s.db).FailValidatingBefore(ctx, s.now().Add(-maxAge))
}

// validation is one run over a file's rows.
type validation struct {
	svc     *Service
	im      *Import
	table   *tabular.Table
	check   *checker
	college string // the college's name, for diffs
}

// run checks every row, stores it with its outcome and sets the counts and
// status of the import, all inside tx (which runs on conn).
func (v *validation) run(ctx context.Context, conn bun.Conn, tx bun.Tx, progress func(done int)) error {
	st := NewStore(tx)
	batch := make([]parsed, 0, batchRows)
	done := 0
	flush := func() error {
		rows, err := v.prepare(ctx, tx, batch)
		if err != nil {
			return err
		}
		if err := copyRows(ctx, conn, rows); err != nil {
			return err
		}
		done += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress(done)
		}
		return ctx.Err()
	}
	for {
		r, err := v.table.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		batch = append(batch, v.check.check(r))
		if len(batch) == batchRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	now := v.svc.now()
	v.im.Status, v.im.Progress, v.im.ValidatedAt = StatusValidated, 100, &now
	return st.Update(ctx, v.im, "status", "progress", "validated_at", "rows_total", "rows_valid",
		"rows_invalid", "rows_new", "rows_changed", "rows_unchanged")
}

// prepare finishes the checks that need the database (bans, stored
// workers), encrypts what must not be stored in clear and counts outcomes.
func (v *validation) prepare(ctx context.Context, tx bun.Tx, batch []parsed) ([]Row, error) {
	c := v.svc.cipher
	idxs := make([][]byte, len(batch))
	var lookup [][]byte
	for i, p := range batch {
		if p.IDOK {
			idxs[i] = c.Index(pii.KindIDNumber, p.ID.Number)
			lookup = append(lookup, idxs[i])
		}
	}
	banned, err := v.svc.bans.BannedAmong(ctx, tx, lookup)
	if err != nil {
		return nil, err
	}
	existing, err := workers.LookupByIDNumberIdx(ctx, tx, lookup)
	if err != nil {
		return nil, err
	}
	idCol, phoneCol := v.table.Index("id_number"), v.table.Index("phone")

	rows := make([]Row, len(batch))
	for i := range batch {
		p := &batch[i]
		r := &rows[i]
		*r = Row{ImportID: v.im.ID, RowNum: p.Num, Name: p.Name, Education: p.Edu, Major: p.Major,
			GraduationYear: p.GradYear, PlanCode: p.PlanCode, Diff: map[string]Change{}}
		raw, err := json.Marshal(p.Cells)
		if err != nil {
			return nil, fmt.Errorf("encode row %d: %w", p.Num, err)
		}
		if r.RawEnc, err = c.Encrypt(string(raw)); err != nil {
			return nil, fmt.Errorf("encrypt row %d: %w", p.Num, err)
		}
		r.Cells = maskCells(p.Cells, idCol, phoneCol)
		if !p.IDOK && idCol >= 0 && idCol < len(r.Cells) {
			// The preview shows what was typed, masked as a whole.
			r.IDMask = r.Cells[idCol]
		}
		if p.IDOK {
			if banned[string(idxs[i])] {
				v.check.fail(p, "id_number", CodeNotRegistrable, msgNotRegistrable)
				if err := auditNotRegistrable(ctx, tx, v.im, p.Num, pii.MaskID(p.ID.Number)); err != nil {
					return nil, err
				}
			}
			if ex, ok := existing[string(idxs[i])]; ok && otherCollege(ex, v.im.CollegeOrgID) {
				// Nothing of the stored worker reaches this college's
				// preview: no diff, no worker id.
				v.check.fail(p, "id_number", CodeOtherCollege, msgOtherCollege)
			}
			if r.IDNumberEnc, err = c.Encrypt(p.ID.Number); err != nil {
				return nil, fmt.Errorf("encrypt id number of row %d: %w", p.Num, err)
			}
			birth := p.ID.Birth
			r.IDNumberIdx, r.IDMask, r.Sex, r.BirthDate, r.IDAreaCode = idxs[i], pii.MaskID(p.ID.Number), p.ID.Sex, &birth, p.ID.Area
		}
		if p.Phone != "" {
			if r.PhoneEnc, err = c.Encrypt(p.Phone); err != nil {
				return nil, fmt.Errorf("encrypt phone of row %d: %w", p.Num, err)
			}
			r.PhoneIdx, r.PhoneMask = c.Index(pii.KindPhone, p.Phone), pii.MaskPhone(p.Phone)
		}
		r.Errors = p.Errors
		if r.Errors == nil {
			r.Errors = []RowError{}
		}

		ex, found := existing[string(idxs[i])]
		v.classify(r, len(p.Errors) > 0, ex, found)
	}
	return rows, nil
}

// classify sets the outcome of row r (invalid, new, changed or unchanged
// against ex, the stored worker with its ID number when found) and counts it.
func (v *validation) classify(r *Row, invalid bool, ex workers.Existing, found bool) {
	v.im.RowsTotal++
	if invalid {
		r.Outcome = OutcomeInvalid
		v.im.RowsInvalid++
		return
	}
	v.im.RowsValid++
	switch {
	case !found:
		r.Outcome = OutcomeNew
		v.im.RowsNew++
	case v.im.Mode == ModeAddOnly:
		// add_only leaves existing workers as they are: the row is
		// skipped, and the preview shows what is on file (masked), not
		// the file's values, which will not be written. It counts as
		// unchanged: committing it changes nothing.
		r.WorkerID = ex.ID
		r.Outcome = OutcomeExists
		r.Name, r.PhoneMask, r.Education, r.Major, r.GraduationYear = ex.Name, ex.PhoneMask, ex.Education, ex.Major, ex.GraduationYear
		r.PhoneEnc, r.PhoneIdx = nil, nil
		v.im.RowsUnchanged++
	default:
		r.WorkerID = ex.ID
		r.Diff = diff(ex, r, v.im.CollegeOrgID, v.college)
		if changes(r.Diff) {
			r.Outcome = OutcomeChanged
			v.im.RowsChanged++
		} else {
			r.Outcome = OutcomeUnchanged
			v.im.RowsUnchanged++
		}
	}
}

// Reasons of the row errors found against the database.
const (
	msgNotRegistrable = "该人员无法登记，请联系属地卫健部门"
	msgOtherCollege   = "该身份证号已有学员档案且不属于本校毕业生，如确为本校毕业生请联系省级平台核实"
)

// auditNotRegistrable records that row num of im named a banned person, with
// the college that uploaded it as the actor (validation may run in the
// background, where the request's caller is not in ctx): the regulator can
// see who tried to register whom, while the college only learns the row
// cannot be registered.
func auditNotRegistrable(ctx context.Context, tx bun.Tx, im *Import, num int, idMask string) error {
	return audit.Record(ctx, tx, audit.Event{
		ActorUserID: im.UploadedByUserID, ActorOrgID: im.CollegeOrgID, ActorLabel: im.UploadedBy,
		Action: "rosters.row_not_registrable", TargetType: "roster_import", TargetID: strconv.FormatInt(im.ID, 10),
		Summary: map[string]any{"row": num, "id_mask": idMask, "reason": "banned"},
	})
}

// otherCollege reports whether ex is anyone but this college's own
// graduate: another college's, or a person already on file without a
// college (registered by a provider, say). A roster may neither see nor
// change them: knowing an ID number must not let a college read a stranger's
// record or take them over; a platform administrator settles such cases.
func otherCollege(ex workers.Existing, college int64) bool {
	return ex.CollegeOrgID != college
}

// diff lists what committing r would change on the stored worker ex. It
// follows the rule of workers.Bulk exactly: empty optional cells keep the
// stored value; a stored phone is kept (shown, marked Kept); the college is
// always set (ex has none or is already this college's: another college's
// graduate never gets this far).
func diff(ex workers.Existing, r *Row, collegeID int64, collegeName string) map[string]Change {
	d := map[string]Change{}
	if r.Name != ex.Name {
		d["name"] = Change{Old: ex.Name, New: r.Name}
	}
	if r.PhoneIdx != nil && !bytes.Equal(r.PhoneIdx, ex.PhoneIdx) {
		d["phone"] = Change{Old: ex.PhoneMask, New: r.PhoneMask, Kept: len(ex.PhoneIdx) > 0}
	}
	if r.Education != "" && r.Education != ex.Education {
		d["education"] = Change{Old: ex.Education.Label(), New: r.Education.Label()}
	}
	if r.Major != "" && r.Major != ex.Major {
		d["major"] = Change{Old: ex.Major, New: r.Major}
	}
	if r.GraduationYear != 0 && r.GraduationYear != ex.GraduationYear {
		d["graduation_year"] = Change{Old: yearText(ex.GraduationYear), New: strconv.Itoa(r.GraduationYear)}
	}
	if ex.CollegeOrgID != collegeID {
		d["college"] = Change{Old: ex.CollegeName, New: collegeName}
	}
	return d
}

// changes reports whether committing a row with diff d writes anything:
// kept values do not count.
func changes(d map[string]Change) bool {
	for _, c := range d {
		if !c.Kept {
			return true
		}
	}
	return false
}

func yearText(y int) string {
	if y == 0 {
		return ""
	}
	return strconv.Itoa(y)
}

// maskCells copies cells with the ID number and phone cells masked, so the
// stored preview never holds them in clear. Cells of other columns that look
// like an ID or mobile number (a second ID column, a remark) are masked too.
func maskCells(cells []string, idCol, phoneCol int) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		switch {
		case i == idCol:
			// A mangled number is masked whole (4.2010…), never in part.
			out[i] = pii.MaskIDCell(strings.TrimPrefix(strings.TrimSpace(c), "'"))
		case looksLikeID.MatchString(c):
			out[i] = pii.MaskID(c)
		case i == phoneCol || looksLikePhone.MatchString(c):
			out[i] = pii.MaskPhone(c)
		default:
			out[i] = c
		}
	}
	return out
}

var (
	looksLikeID    = regexp.MustCompile(`[0-9]{15}|[0-9]{17}[0-9Xx]`)
	looksLikePhone = regexp.MustCompile(`1[3-9][0-9]{9}`)
)

// countRows reads a file through once and reports too_many_rows (or any
// other reading error) without storing anything.
func countRows(data []byte, name string, opts tabular.Options) error {
	t, err := tabular.Open(data, name, opts)
	if err != nil {
		return err
	}
	defer t.Close()
	for {
		if _, err := t.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// fileName keeps the base name of an uploaded file (browsers on Windows
// may send a whole path) and bounds its length.
func fileName(s string) string {
	s = path.Base(strings.ReplaceAll(strings.TrimSpace(s), "\\", "/"))
	if s == "." || s == "/" {
		return ""
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[len(r)-200:])
	}
	return s
}

// uploaderLabel names who acted: the username, or "token:<name>" for an
// organisation API token (the accounts module names token principals so).
func uploaderLabel(p *accounts.Principal) string { return p.Username }

// Get returns import id if p may see it. Errors: NotFound roster_not_found.
func (s *Service) Get(ctx context.Context, p *accounts.Principal, id int64) (*Import, error) {
	return NewStore(s.db).ByID(ctx, p, id)
}

// SameFile returns the other imports of im's college with the same file
// content, newest first. Errors: only internal ones (database).
func (s *Service) SameFile(ctx context.Context, p *accounts.Principal, im *Import) ([]Import, error) {
	return NewStore(s.db).SameFile(ctx, p, im)
}

// List returns a page of the imports p may see, newest first.
// Errors: only internal ones (database).
func (s *Service) List(ctx context.Context, p *accounts.Principal, limit, offset int) ([]Import, int, error) {
	return NewStore(s.db).List(ctx, p, limit, offset)
}

// Differing returns a page of the rows of import id that differ from the
// stored worker: those the commit updates, and those it leaves unchanged
// though they differ (a stored phone is kept), so the preview can say so.
// Errors: NotFound roster_not_found.
func (s *Service) Differing(ctx context.Context, p *accounts.Principal, id int64, limit, offset int) ([]Row, int, error) {
	if _, err := NewStore(s.db).ByID(ctx, p, id); err != nil {
		return nil, 0, err
	}
	rows, total, _, err := NewStore(s.db).Rows(ctx, id, RowFilter{Outcomes: []string{OutcomeChanged, OutcomeUnchanged}, WithDiff: true,
		Limit: limit, Offset: offset})
	return rows, total, err
}

// Rows returns a page of the rows of import id (p must see the import),
// optionally only those with the given outcomes, and their total (see
// BrowseRows). Errors: NotFound roster_not_found; Invalid invalid_filter.
func (s *Service) Rows(ctx context.Context, p *accounts.Principal, id int64, outcomes []string, limit, offset int) ([]Row, int, error) {
	rows, total, _, err := s.BrowseRows(ctx, p, id, RowFilter{Outcomes: outcomes, Limit: limit, Offset: offset})
	return rows, total, err
}

// BrowseRows returns the rows of import id that f selects (p must see the
// import), in row order, and their total: exact up to pg.ExactUpTo, else
// an estimate (estimate true). Errors: NotFound roster_not_found; Invalid
// invalid_filter.
func (s *Service) BrowseRows(ctx context.Context, p *accounts.Principal, id int64, f RowFilter) ([]Row, int, bool, error) {
	for _, o := range f.Outcomes {
		if !slices.Contains(Outcomes, o) {
			return nil, 0, false, apperr.Invalid("invalid_filter", "筛选条件有误",
				apperr.FieldError{Field: "outcome", Code: "invalid_filter", Message: "outcome 的取值「" + o + "」无效，可选：" + strings.Join(Outcomes, "、")})
		}
	}
	if _, err := NewStore(s.db).ByID(ctx, p, id); err != nil {
		return nil, 0, false, err
	}
	return NewStore(s.db).Rows(ctx, id, f)
}

// HasImports reports whether college orgID has uploaded any roster, so a
// seed can leave a college that has imports alone. Errors: only internal ones (database).
func (s *Service) HasImports(ctx context.Context, orgID int64) (bool, error) {
	n, err := NewStore(s.db).CountOfCollege(ctx, orgID)
	if err != nil {
		return false, fmt.Errorf("count roster imports of college %d: %w", orgID, err)
	}
	return n > 0, nil
}
