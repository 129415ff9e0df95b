package certificates

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/enrolment"
)

// Exports are kept this long, then the clean-up job removes them.
const exportKeep = 24 * time.Hour

// exportBatch certificates are rendered between two progress updates.
const exportBatch = 64

// staleAfter without a progress update, a running export is taken to have
// lost its process.
const staleAfter = 2 * time.Minute

func (s *Service) exportDir() string { return filepath.Join(s.cfg.DataDir, "exports") }

func (s *Service) exportPath(id int64) string {
	return filepath.Join(s.exportDir(), "certificates-"+strconv.FormatInt(id, 10)+".zip")
}

// StartExport starts building the ZIP of every certificate of class id
// that is not revoked, for the class's provider, in the background, and
// returns the export to follow. Errors: Forbidden forbidden_role; NotFound
// class_not_found (also another provider's class).
func (s *Service) StartExport(ctx context.Context, p *accounts.Principal, classID int64) (Export, error) {
	if !p.Is(accounts.RoleProvider) {
		return Export{}, apperr.Forbidden("forbidden_role", "只有培训机构可以导出本班证书")
	}
	if _, err := enrolment.NewStore(s.db).ClassForCaller(ctx, p, classID); err != nil {
		return Export{}, err
	}
	ids, err := NewStore(s.db).ClassIDs(ctx, classID)
	if err != nil {
		return Export{}, err
	}
	e := Export{ClassID: classID, RequestedBy: p.UserID, Status: "running", Total: len(ids), ExpiresAt: s.now().Add(exportKeep)}
	if err := NewStore(s.db).InsertExport(ctx, &e); err != nil {
		return Export{}, err
	}
	s.exports.Add(1)
	go func() {
		defer s.exports.Done()
		bg, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-bg.Done():
			}
		}()
		s.runExport(bg, e.ID, ids)
	}()
	return e, nil
}

// runExport builds export id and records the outcome; a cancelled build
// stays "running" for ResumeInterrupted to finish.
func (s *Service) runExport(ctx context.Context, id int64, ids []int64) {
	err := s.BuildExport(ctx, id, ids)
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	s.cfg.Logger.Error("certificate export failed", "export_id", id, "error", err)
	if ferr := NewStore(s.db).FailExport(context.Background(), id, "生成失败，请重新导出"); ferr != nil {
		s.cfg.Logger.Error("mark export failed", "export_id", id, "error", ferr)
	}
}

// BuildExport renders certificates ids into export id's ZIP (stored, not
// deflated: PDFs are compressed already), rendering a batch at a time on
// every core and storing progress after each batch.
func (s *Service) BuildExport(ctx context.Context, id int64, ids []int64) error {
	if err := os.MkdirAll(s.exportDir(), 0o700); err != nil {
		return fmt.Errorf("export dir: %w", err)
	}
	final := s.exportPath(id)
	tmp, err := os.CreateTemp(s.exportDir(), ".export-*.zip")
	if err != nil {
		return fmt.Errorf("create export file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	zw := zip.NewWriter(tmp)
	st := NewStore(s.db)
	templates := map[int64]Template{}
	workers := runtime.GOMAXPROCS(0)
	for start := 0; start < len(ids); start += exportBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+exportBatch, len(ids))
		cs, err := st.ByIDs(ctx, ids[start:end])
		if err != nil {
			return err
		}
		for _, c := range cs {
			if _, ok := templates[c.TemplateID]; !ok {
				if templates[c.TemplateID], err = st.Template(ctx, c.TemplateID); err != nil {
					return err
				}
			}
		}
		pdfs, err := s.cfg.Renderer.RenderBatch(cs, templates, workers)
		if err != nil {
			return err
		}
		for i, c := range cs {
			if !bytes.Equal(Digest(pdfs[i]), c.PDFSHA256) {
				return fmt.Errorf("certificate %s renders to another SHA-256 than at issue", c.Number)
			}
			f, err := zw.CreateHeader(&zip.FileHeader{Name: c.Number + ".pdf", Method: zip.Store, Modified: c.IssuedAt})
			if err != nil {
				return err
			}
			if _, err := f.Write(pdfs[i]); err != nil {
				return fmt.Errorf("write export: %w", err)
			}
		}
		if err := st.ExportProgress(ctx, id, end, len(ids)); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("close export zip: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close export file: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("store export file: %w", err)
	}
	return st.FinishExport(ctx, id, filepath.Base(final), len(ids), s.now())
}

// ExportStatus returns export id to the user who asked for it. Errors:
// NotFound export_not_found (also anyone else's).
func (s *Service) ExportStatus(ctx context.Context, p *accounts.Principal, id int64) (Export, error) {
	e, err := NewStore(s.db).Export(ctx, id)
	if err != nil {
		return Export{}, err
	}
	if p == nil || e.RequestedBy != p.UserID {
		return Export{}, apperr.NotFound("export_not_found", "导出任务不存在")
	}
	return e, nil
}

// ExportFile returns the path of export id's ZIP for the user who asked.
// Errors: NotFound export_not_found; Conflict export_not_ready,
// export_failed.
func (s *Service) ExportFile(ctx context.Context, p *accounts.Principal, id int64) (string, Export, error) {
	e, err := s.ExportStatus(ctx, p, id)
	if err != nil {
		return "", Export{}, err
	}
	switch e.Status {
	case "running":
		return "", e, apperr.Conflict("export_not_ready", "证书包仍在生成中，请稍后再下载")
	case "failed":
		return "", e, apperr.Conflict("export_failed", "证书包生成失败，请重新导出")
	}
	path := filepath.Join(s.exportDir(), e.FileName)
	if _, err := os.Stat(path); err != nil {
		return "", e, apperr.NotFound("export_not_found", "证书包已过期删除，请重新导出")
	}
	return path, e, nil
}

// ResumeInterrupted finishes exports whose process stopped while building
// them (no progress for a while), here and now; it returns how many.
func (s *Service) ResumeInterrupted(ctx context.Context) (int, error) {
	before := s.now().Add(-staleAfter)
	st := NewStore(s.db)
	es, err := st.StaleExports(ctx, before)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range es {
		ok, err := st.ClaimStale(ctx, e.ID, before)
		if err != nil {
			return n, err
		}
		if !ok {
			continue // another instance took it
		}
		ids, err := st.ClassIDs(ctx, e.ClassID)
		if err != nil {
			return n, err
		}
		if err := s.BuildExport(ctx, e.ID, ids); err != nil {
			if ferr := st.FailExport(ctx, e.ID, "生成失败，请重新导出"); ferr != nil {
				return n, ferr
			}
			return n, fmt.Errorf("resume export %d: %w", e.ID, err)
		}
		n++
	}
	return n, nil
}

// CleanExports removes exports kept past 24 hours, files and rows; it
// returns how many.
func (s *Service) CleanExports(ctx context.Context) (int, error) {
	es, err := NewStore(s.db).DeleteExpiredExports(ctx, s.now())
	if err != nil {
		return 0, err
	}
	for _, e := range es {
		if err := os.Remove(s.exportPath(e.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return len(es), fmt.Errorf("remove export file %d: %w", e.ID, err)
		}
	}
	return len(es), nil
}

// Close stops background exports (they stay "running" and are finished
// by the resume job) and waits for them to end.
func (s *Service) Close() {
	s.once.Do(func() { close(s.stop) })
	s.exports.Wait()
}

// Class returns class id if p may see it (the class certificates page).
// Errors: NotFound class_not_found.
func (s *Service) Class(ctx context.Context, p *accounts.Principal, id int64) (enrolment.Class, error) {
	return enrolment.NewStore(s.db).ClassForCaller(ctx, p, id)
}

// RenderBatch renders certificates cs (each with its template from
// templates) on workers goroutines and returns the PDFs in the order of cs.
// The font is shared, so memory grows with the batch, not with the class.
func (r *Renderer) RenderBatch(cs []Certificate, templates map[int64]Template, workers int) ([][]byte, error) {
	pdfs := make([][]byte, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < max(workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				pdfs[i], errs[i] = r.Render(cs[i], templates[cs[i].TemplateID])
			}
		}()
	}
	for i := range cs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return pdfs, nil
}
