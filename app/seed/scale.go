package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/assessments"
	"tuoyu/modules/attendance"
	"tuoyu/modules/bans"
	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/institutions"
	"tuoyu/modules/orgs"
	"tuoyu/modules/payouts"
	"tuoyu/modules/pg"
	"tuoyu/modules/workers"
)

// scaleCity is a city of Hubei with its weight (resident population in
// units of 10 000, 7th census) and the region codes its people get: the
// districts the regions table lists, else the city itself.
type scaleCity struct {
	code, name string
	weight     int
	areas      []string
}

var scaleCities = []scaleCity{
	{"420100", "武汉", 1232, []string{"420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112", "420113", "420114", "420115", "420116", "420117"}},
	{"420200", "黄石", 247, nil},
	{"420300", "十堰", 321, nil},
	{"420500", "宜昌", 401, []string{"420502", "420503", "420504", "420505", "420506", "420525", "420526", "420527", "420528", "420529", "420581", "420582", "420583"}},
	{"420600", "襄阳", 526, []string{"420602", "420606", "420607", "420624", "420625", "420626", "420682", "420683", "420684"}},
	{"420700", "鄂州", 107, nil},
	{"420800", "荆门", 259, nil},
	{"420900", "孝感", 427, nil},
	{"421000", "荆州", 523, nil},
	{"421100", "黄冈", 588, nil},
	{"421200", "咸宁", 265, nil},
	{"421300", "随州", 205, nil},
	{"422800", "恩施", 346, nil},
}

// scaleBatch is how many workers one COPY writes: one statement, so a
// batch is in the database whole or not at all, which is what makes the
// load resumable.
const scaleBatch = 5_000

// scaleWorld is what the steps of Scale share: the generated organisations
// by city, and the counts the progress line reports.
type scaleWorld struct {
	n         int
	asOf      time.Time
	colleges  map[string][]int64 // by city code
	providers map[string][]int64
	employers map[string][]int64 // institutions
	instArea  map[int64]string   // each institution's region, which its employees take
	cityTotal int
	out       io.Writer
}

// pick returns a city drawn by weight.
func (w *scaleWorld) pick(r *rand.Rand) *scaleCity {
	x := r.IntN(w.cityTotal)
	for i := range scaleCities {
		if x < scaleCities[i].weight {
			return &scaleCities[i]
		}
		x -= scaleCities[i].weight
	}
	return &scaleCities[0]
}

// ScaleSteps are the areas of the scale world in the order they are built;
// each is resumable (it skips what an earlier, interrupted run wrote). The
// second-half modules add one function each here as they land: sittings
// and results, certificates, claims, payout batches.
var ScaleSteps = []struct {
	Name string
	Run  func(context.Context, Services, *scaleWorld) error
	// Analyze refreshes the planner's statistics of the tables the step
	// wrote, before the next step reads them: a bulk-loaded table looks
	// empty to the planner until autovacuum comes round, and the
	// eligibility step's look-ups of certificates then took 50 s instead
	// of 3 at 100 000 workers.
	Analyze []func(context.Context, bun.IDB) error
}{
	{"organisations", scaleOrganisations, nil},
	{"workers", scaleWorkers, nil},
	{"worker regions and bans", scaleWorkersDerived, nil},
	{"provider links", scaleProviderLinks, stats(workers.Analyze)},
	{"classes", scaleClasses, stats(classes.Analyze)},
	{"enrolments", scaleEnrolments, stats(workers.Analyze, classes.Analyze)},
	{"lessons", scaleLessons, stats(attendance.Analyze)},
	{"sittings and results", scaleSittings, stats(assessments.Analyze)},
	{"certificates", scaleCertificates, stats(certificates.Analyze)},
	{"eligibility", scaleEligibility, stats(claims.Analyze)},
	{"claims", scaleClaims, stats(claims.Analyze)},
	{"payout batches", scalePayouts, stats(payouts.Analyze)},
	{"statistics", scaleStatistics, nil},
}

// stats lists a step's Analyze functions.
func stats(fns ...func(context.Context, bun.IDB) error) []func(context.Context, bun.IDB) error {
	return fns
}

// Scale builds a province-size world for benchmarks on top of the demo:
// colleges, providers and institutions in every city of Hubei, weighted by
// population, and n generated workers (valid, distinct ID numbers; graduates
// of their city's colleges, employees of its institutions) written with
// COPY. Running it again after an interruption continues where it stopped;
// a progress line per batch goes to out. It needs the demo (regulator1).
// Errors: Invalid validation_failed when n is not positive; NotFound
// user_not_found without the demo.
func Scale(ctx context.Context, s Services, n int, out io.Writer) error {
	if n <= 0 {
		return apperr.Invalid("validation_failed", "人数须为正整数")
	}
	w := &scaleWorld{n: n, asOf: s.Now(), out: out, colleges: map[string][]int64{},
		providers: map[string][]int64{}, employers: map[string][]int64{}, instArea: map[int64]string{}}
	for _, c := range scaleCities {
		w.cityTotal += c.weight
	}
	for _, step := range ScaleSteps {
		start := time.Now()
		if err := step.Run(ctx, s, w); err != nil {
			return fmt.Errorf("scale %s: %w", step.Name, err)
		}
		for _, analyze := range step.Analyze {
			if err := analyze(ctx, s.Bulk); err != nil {
				return fmt.Errorf("scale %s: %w", step.Name, err)
			}
		}
		fmt.Fprintf(out, "%s: done in %s\n", step.Name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// scaleOrganisations ensures per city one college per 2 million people
// (at least one), one provider per million and one institution per 500
// workers, shared out by weight.
func scaleOrganisations(ctx context.Context, s Services, w *scaleWorld) error {
	reg, err := s.principal(ctx, "regulator1")
	if err != nil {
		return err
	}
	insts := max(len(scaleCities), w.n/500)
	for _, c := range scaleCities {
		for i := range max(1, c.weight/200) {
			o, err := s.Orgs.Ensure(ctx, orgs.Input{Code: fmt.Sprintf("scale-college-%s-%d", c.code, i+1),
				Name: fmt.Sprintf("%s第%d托育职业学院", c.name, i+1), Kind: "college", RegionCode: c.code})
			if err != nil {
				return err
			}
			w.colleges[c.code] = append(w.colleges[c.code], o.ID)
		}
		for i := range max(1, c.weight/100) {
			// A six-digit site code (9, the city, the number) for the
			// skill certificates' numbers.
			o, err := s.Orgs.Ensure(ctx, orgs.Input{Code: fmt.Sprintf("scale-provider-%s-%d", c.code, i+1),
				Name: fmt.Sprintf("%s第%d职业培训学校", c.name, i+1), Kind: "provider", RegionCode: c.code,
				SiteCode: fmt.Sprintf("9%s%03d", c.code[2:4], i+1)})
			if err != nil {
				return err
			}
			w.providers[c.code] = append(w.providers[c.code], o.ID)
		}
		areas := c.areas
		if areas == nil {
			areas = []string{c.code}
		}
		share := max(1, insts*c.weight/w.cityTotal)
		for i := range share {
			area := areas[i%len(areas)]
			first17 := fmt.Sprintf("91%sMA%06dX", area, i+1)
			in := institutions.Input{USCC: first17 + string(orgs.USCCCheckChar(first17)),
				Name: fmt.Sprintf("%s第%d托育园", c.name, i+1), Kind: string(institutions.KindForProfit),
				RegionCode: area, Places: 40 + i%5*20, FilingStatus: string(institutions.FilingUnfiled)}
			inst, err := s.Institutions.Create(ctx, reg, in)
			if apperr.Is(err, "uscc_taken") { // made by an earlier run
				var found []institutions.Institution
				found, _, err = s.Institutions.List(ctx, institutions.Filter{Q: in.USCC})
				if err == nil && len(found) == 1 {
					inst = &found[0]
				}
			}
			if err != nil || inst == nil {
				return fmt.Errorf("institution %s: %v", in.Name, err)
			}
			w.employers[c.code] = append(w.employers[c.code], inst.ID)
			w.instArea[inst.ID] = inst.RegionCode
		}
		fmt.Fprintf(w.out, "organisations: %s %d colleges, %d providers, %d institutions\n",
			c.name, len(w.colleges[c.code]), len(w.providers[c.code]), len(w.employers[c.code]))
	}
	return nil
}

// registrars are every generated college and provider: the workers they
// registered are the scale world's, whatever else the database holds.
func (w *scaleWorld) registrars() []int64 {
	var ids []int64
	for _, c := range scaleCities {
		ids = append(ids, w.colleges[c.code]...)
		ids = append(ids, w.providers[c.code]...)
	}
	return ids
}

// scaleStreams is how many loads of the workers and enrolments steps run
// at once: one per core of the 2-core machine the goal is set on; one
// backend maintaining the indexes is what limits each stream.
const scaleStreams = 2

// inParallel runs fn on each of jobs, scaleStreams at a time, and returns
// the first error (the others stop at their next job).
func inParallel(ctx context.Context, jobs []int64, fn func(context.Context, int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed := make(chan int64)
	errs := make(chan error, scaleStreams)
	for range scaleStreams {
		go func() {
			for j := range feed {
				if err := fn(ctx, j); err != nil {
					cancel()
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for _, j := range jobs {
		select {
		case feed <- j:
		case <-ctx.Done():
		}
	}
	close(feed)
	var first error
	for range scaleStreams {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// scaleWorkers writes the missing workers in batches of scaleBatch, two
// at a time. Batch b is generated from a random source seeded with b, so
// a rerun makes the same people; a batch is written whole or not at all,
// and one whose first person is stored is skipped, so a rerun continues
// whatever order the batches had finished in.
func scaleWorkers(ctx context.Context, s Services, w *scaleWorld) error {
	have, err := workers.CountRegisteredBy(ctx, s.DB, w.registrars())
	if err != nil || have >= w.n { // the last batch may be short: done is done
		return err
	}
	var jobs []int64
	for from := 0; from < w.n; from += scaleBatch {
		jobs = append(jobs, int64(from))
	}
	start := time.Now()
	var mu sync.Mutex
	done := have
	return inParallel(ctx, jobs, func(ctx context.Context, from int64) error {
		n, err := w.workerBatch(ctx, s, int(from))
		if err != nil || n == 0 {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		done += n
		rate := float64(done-have) / time.Since(start).Seconds()
		fmt.Fprintf(w.out, "workers: %d/%d (%.0f/s, about %s left)\n", done, w.n, rate,
			(time.Duration(float64(w.n-done)/rate) * time.Second).Round(time.Second))
		return nil
	})
}

// workerBatch generates the batch starting at person from and writes it
// unless it is stored; it returns how many it wrote.
func (w *scaleWorld) workerBatch(ctx context.Context, s Services, from int) (int, error) {
	r := rand.New(rand.NewPCG(uint64(from/scaleBatch), 14))
	batch := make([]workers.Worker, 0, min(scaleBatch, w.n-from))
	for i := from; i < from+cap(batch); i++ {
		p, err := w.person(s.Workers, r, i)
		if err != nil {
			return 0, err
		}
		batch = append(batch, *p)
	}
	stored, err := workers.LookupByIDNumberIdx(ctx, s.DB, [][]byte{batch[0].IDNumberIdx})
	if err != nil || len(stored) > 0 {
		return 0, err
	}
	if err := w.copyBatch(ctx, s, batch); err != nil {
		return 0, fmt.Errorf("workers %d–%d: %w", from, from+len(batch), err)
	}
	return len(batch), nil
}

// copyBatch writes one batch with COPY, triggers off (workers.CopyScale).
func (w *scaleWorld) copyBatch(ctx context.Context, s Services, batch []workers.Worker) error {
	return workers.CopyScale(ctx, s.Bulk, batch)
}

// person makes generated worker number i. The ID number is distinct for
// every i: the birth date steps every 500 people (through 35 years, in an
// order that mixes ages) and the sequence digits count within it.
func (w *scaleWorld) person(ws *workers.Service, r *rand.Rand, i int) (*workers.Worker, error) {
	city := w.pick(r)
	area := city.code
	if city.areas != nil {
		area = city.areas[r.IntN(len(city.areas))]
	}
	birth := time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i/500)*7919%13000)
	k := i % 500
	sex := workers.SexFemale
	if r.IntN(10) == 0 { // childcare staff are mostly women
		sex = workers.SexMale
	}
	sexDigit := k % 5 * 2
	if sex == workers.SexMale {
		sexDigit++
	}
	first17 := fmt.Sprintf("%s%s%02d%d", area, birth.Format("20060102"), k/5, sexDigit)
	id, err := workers.ValidateID(first17+string(workers.CheckChar(first17)), w.asOf)
	if err != nil {
		return nil, fmt.Errorf("generated id number %s: %w", first17, err)
	}
	// Target groups stay nil ("never asked") unless drawn below.
	p := &workers.Worker{Name: demoName(r), Occupations: []string{},
		Education: workers.Educations[2+r.IntN(5)]}
	age := workers.AgeAt(birth, w.asOf)
	if cs := w.colleges[city.code]; age <= 28 && r.IntN(10) < 7 {
		p.CollegeOrgID = cs[r.IntN(len(cs))]
		p.RegisteredByOrgID = p.CollegeOrgID
		p.Major = demoMajors[r.IntN(len(demoMajors))]
		p.GraduationYear = min(w.asOf.Year(), birth.Year()+21+r.IntN(3))
		if p.GraduationYear == w.asOf.Year() {
			p.TargetGroups = []string{workers.GroupGraduateOfYear}
			p.TargetGroupsSetAt, p.TargetGroupsSetBy = &w.asOf, workers.FactByHRReviewer
		}
	} else {
		ps := w.providers[city.code]
		p.RegisteredByOrgID = ps[r.IntN(len(ps))]
	}
	if es := w.employers[city.code]; age >= 20 && r.IntN(20) < 11 {
		p.EmployerInstitutionID = es[r.IntN(len(es))]
		p.Employment = workers.EmpEnterpriseEmployee
		months := r.IntN(120)
		on := w.asOf.AddDate(0, -r.IntN(3), 0)
		p.InsuredMonths, p.InsuredMonthsOn, p.InsuredMonthsSource = &months, &on, "scale"
		p.EmploymentSetAt, p.EmploymentSetBy = &w.asOf, workers.FactByHRReviewer
		p.InsuredMonthsSetAt, p.InsuredMonthsSetBy = &w.asOf, workers.FactByHRImport
		p.Occupations = []string{workers.Occupations[r.IntN(2)].Code}
	}
	// The region workers_set_region would give (CopyScale skips it).
	p.RegionCode = area
	if p.EmployerInstitutionID != 0 {
		p.RegionCode = w.instArea[p.EmployerInstitutionID]
	} else if p.CollegeOrgID != 0 {
		p.RegionCode = city.code
	}
	bank := ""
	if r.IntN(3) == 0 {
		bank = fmt.Sprintf("6222%015d", r.Int64N(1_000_000_000_000_000))
		p.BankName = demoBanks[r.IntN(len(demoBanks))]
	}
	phone := fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
	return p, ws.Seal(p, id, phone, bank)
}

// scaleWorkersDerived sets, set-based, the region and ban flag the
// workers' insert triggers would have computed where a generated worker's
// differ (workers.CopyScale loads with triggers off): normally none.
func scaleWorkersDerived(ctx context.Context, s Services, w *scaleWorld) error {
	lo, hi, err := workers.IDRange(ctx, s.DB, w.registrars())
	if err != nil || lo == 0 {
		return err
	}
	const chunk = 250_000
	fixed := 0
	for from := lo; from <= hi; from += chunk {
		n, err := workers.RebuildScale(ctx, s.Bulk, bans.Unlifted(s.Bulk), from, min(hi, from+chunk-1))
		if err != nil {
			return err
		}
		fixed += n
	}
	fmt.Fprintf(w.out, "worker regions and bans: %d workers corrected\n", fixed)
	return nil
}

// scaleProviderLinks puts each provider's registered workers in its scope
// (provider_workers), 50 000 workers a statement (one for a million
// outlasts the driver's read timeout on a loaded machine).
func scaleProviderLinks(ctx context.Context, s Services, w *scaleWorld) error {
	var ps []int64
	for _, c := range scaleCities {
		ps = append(ps, w.providers[c.code]...)
	}
	lo, hi, err := workers.IDRange(ctx, s.DB, w.registrars())
	if err != nil || lo == 0 {
		return err
	}
	const chunk = 250_000
	for from := lo; from <= hi; from += chunk {
		if err := workers.LinkRegistered(ctx, s.Bulk, ps, from, min(hi, from+chunk-1)); err != nil {
			return err
		}
	}
	return nil
}

// scaleClassSize is the mean number of enrolments a generated class gets;
// classes hold 100, so the random draw never overfills one.
const scaleClassSize = 30

// scalePlans returns the plans and their current versions, marked in use.
func scalePlans(ctx context.Context, s Services) (plans, versions []int64, err error) {
	all, err := s.Catalog.Plans(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range all {
		v, err := s.Catalog.UseCurrentVersion(ctx, s.DB, p.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("plan %s: %w", p.Code, err)
		}
		plans, versions = append(plans, p.ID), append(versions, v)
	}
	if len(plans) == 0 {
		return nil, nil, apperr.NotFound("plan_not_found", "没有培训计划：请先运行 seed demo")
	}
	return plans, versions, nil
}

// scaleClasses gives every generated provider enough classes over the
// eras for ≈ 5 enrolments per worker of its city at scaleClassSize each.
func scaleClasses(ctx context.Context, s Services, w *scaleWorld) error {
	plans, _, err := scalePlans(ctx, s)
	if err != nil {
		return err
	}
	var ps []int64
	var regions []string
	for _, c := range scaleCities {
		for _, p := range w.providers[c.code] {
			ps, regions = append(ps, p), append(regions, c.code)
		}
	}
	// Providers per city follow its weight (rounded), so each city gets
	// about its share of classes; the roundings leave a class at most
	// ≈ 1.3 × scaleClassSize on average, far from its capacity of 100.
	// At least eight a term, so that even a small world (the tests') has
	// classes of every plan and state.
	per := max(classes.ScaleEras*8, (w.n*classes.ScaleEras/scaleClassSize+len(ps)-1)/len(ps))
	// One provider a statement: all of them at once outlasts the driver's
	// read timeout at a million workers.
	total := 0
	for i := range ps {
		n, err := classes.GenerateScale(ctx, s.DB, ps[i:i+1], regions[i:i+1], plans, per, w.asOf)
		if err != nil {
			return err
		}
		total += n
	}
	if err := classes.Analyze(ctx, s.DB); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "classes: %d new (%d per provider)\n", total, per)
	return nil
}

// scaleEnrolChunk is how many workers one enrolment statement takes: big
// statements (≈ 90 000 enrolments) on the seed's long-timeout pool, so the
// draw of the classes is computed a few dozen times for a million, not
// hundreds.
const scaleEnrolChunk = 20_000

// scaleEnrolments enrols the generated workers, scaleEnrolChunk at a time,
// each chunk with its provider links in one transaction with triggers and
// foreign-key checks off (pg.Replica: the classes and workers drawn from
// exist); chunks that hold enrolments already are skipped, so a rerun
// continues. The place counts the skipped statement triggers keep are
// rebuilt set-based at the end.
func scaleEnrolments(ctx context.Context, s Services, w *scaleWorld) error {
	plans, versions, err := scalePlans(ctx, s)
	if err != nil {
		return err
	}
	regs := w.registrars()
	var ps []int64
	for _, c := range scaleCities {
		ps = append(ps, w.providers[c.code]...)
	}
	lo, hi, err := workers.IDRange(ctx, s.DB, regs)
	if err != nil || lo == 0 {
		return err
	}
	var jobs []int64
	for from := lo; from <= hi; from += scaleEnrolChunk {
		jobs = append(jobs, from)
	}
	start, total := time.Now(), 0
	var mu sync.Mutex
	err = inParallel(ctx, jobs, func(ctx context.Context, from int64) error {
		to := min(hi, from+scaleEnrolChunk-1)
		done, err := enrolment.AnyOfWorkers(ctx, s.DB, from, to)
		if err != nil || done {
			return err
		}
		n := 0
		err = pg.Replica(ctx, s.Bulk, func(ctx context.Context, _ bun.Conn, tx bun.Tx) error {
			var err error
			n, err = enrolment.GenerateScale(ctx, tx, classes.ScaleDraw(tx, ps, w.asOf),
				workers.RegisteredIn(tx, regs, from, to), plans, versions)
			if err != nil {
				return err
			}
			return workers.LinkEnrolled(ctx, tx, enrolment.ActivePlaces(tx, from, to))
		})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		total += n
		fmt.Fprintf(w.out, "enrolments: workers %d–%d of %d–%d, %d enrolments (%.0f/s)\n",
			from, to, lo, hi, total, float64(total)/time.Since(start).Seconds())
		return nil
	})
	if err != nil {
		return err
	}
	// The statistics and visibility map first: on a just-loaded table the
	// count was planned as an index-only scan fetching every row from the
	// heap in class order (minutes at a million workers, not seconds).
	if err := enrolment.Analyze(ctx, s.Bulk); err != nil {
		return err
	}
	// Triggers off: the overview's rollup, which a class update fires, is
	// rebuilt at the end (scaleStatistics).
	n := 0
	err = pg.Replica(ctx, s.Bulk, func(ctx context.Context, _ bun.Conn, tx bun.Tx) error {
		var err error
		n, err = classes.RebuildCounts(ctx, tx, enrolment.PlaceCounts(tx))
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w.out, "enrolments: place counts of %d classes rebuilt\n", n)
	return nil
}

// scaleProviders lists every generated provider, city by city.
func (w *scaleWorld) allProviders() []int64 {
	var ps []int64
	for _, c := range scaleCities {
		ps = append(ps, w.providers[c.code]...)
	}
	return ps
}

// scaleProviderGroup is how many providers' classes one statement of the
// later steps takes: a few per statement keeps each transaction to a
// minute or so at a million workers, and gives the progress line.
const scaleProviderGroup = 5

// byProviderGroup runs fn on the generated providers, scaleProviderGroup
// at a time and two groups at once (scaleStreams), each in a transaction
// with triggers off (pg.Replica), and prints what fn reports after each
// group. Groups hold disjoint classes, so the streams never write the same
// rows; fn runs on two goroutines at once and guards its own counts.
func (w *scaleWorld) byProviderGroup(ctx context.Context, s Services, step string,
	fn func(ctx context.Context, tx bun.Tx, ps []int64) (string, error)) error {
	ps := w.allProviders()
	var starts []int64
	for i := 0; i < len(ps); i += scaleProviderGroup {
		starts = append(starts, int64(i))
	}
	var mu sync.Mutex
	done := 0
	return inParallel(ctx, starts, func(ctx context.Context, i int64) error {
		group := ps[i:min(len(ps), int(i)+scaleProviderGroup)]
		var line string
		err := pg.Replica(ctx, s.Bulk, func(ctx context.Context, _ bun.Conn, tx bun.Tx) error {
			var err error
			line, err = fn(ctx, tx, group)
			return err
		})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		done += len(group)
		fmt.Fprintf(w.out, "%s: providers %d/%d, %s\n", step, done, len(ps), line)
		return nil
	})
}

// scaleLessons records the lessons held so far in the running classes and
// who attended (attendance.GenerateScale); classes with lessons are
// skipped, so a rerun continues. Past classes keep no lessons: their
// attendance would be tens of millions of rows at a million workers.
func scaleLessons(ctx context.Context, s Services, w *scaleWorld) error {
	var mu sync.Mutex
	les, att := 0, 0
	return w.byProviderGroup(ctx, s, "lessons", func(ctx context.Context, tx bun.Tx, ps []int64) (string, error) {
		l, a, err := attendance.GenerateScale(ctx, tx, classes.ScaleInState(tx, ps, "running"),
			catalog.VersionCourses(tx), enrolment.InStatus(tx, "enrolled"), w.asOf)
		mu.Lock()
		defer mu.Unlock()
		les, att = les+l, att+a
		return fmt.Sprintf("%d lessons, %d attendances", les, att), err
	})
}

// sittingsSince is the day from which ended classes have sittings in the
// scale world: two years back. A candidate costs the exclusion constraint's
// GiST index most of its insert; sittings for every past class would be
// five million candidates at a million workers. The completions before it
// are certified without a pass, as before the assessments module.
func (w *scaleWorld) sittingsSince() time.Time { return w.asOf.AddDate(-2, 0, 0) }

// scaleSittings holds the first sittings of the classes that ended since
// sittingsSince, with candidates and results (assessments.GenerateScale);
// classes with sittings are skipped.
func scaleSittings(ctx context.Context, s Services, w *scaleWorld) error {
	var mu sync.Mutex
	sit, res := 0, 0
	return w.byProviderGroup(ctx, s, "sittings", func(ctx context.Context, tx bun.Tx, ps []int64) (string, error) {
		n, _, r, err := assessments.GenerateScale(ctx, tx, classes.ScaleEndedSince(tx, ps, w.sittingsSince()),
			enrolment.InStatus(tx, "completed"))
		mu.Lock()
		defer mu.Unlock()
		sit, res = sit+n, res+r
		return fmt.Sprintf("%d sittings, %d results", sit, res), err
	})
}

// scaleCertChunk is how many enrolment ids one certificates transaction
// covers (≈ 35 000 certificates).
const scaleCertChunk = 100_000

// scaleCertificates issues the certificates of the passes and of the
// completions of plans without an assessment (certificates.IssueScale),
// enrolment id range by range, two ranges at once with numbers from one
// certificates.ScaleNumbers; a range that holds a certificate is skipped,
// so a rerun continues.
func scaleCertificates(ctx context.Context, s Services, w *scaleWorld) error {
	lo, hi, err := enrolment.IDRange(ctx, s.DB)
	if err != nil || lo == 0 {
		return err
	}
	numbers, err := certificates.NewScaleNumbers(ctx, s.DB)
	if err != nil {
		return err
	}
	var jobs []int64
	for from := lo; from <= hi; from += scaleCertChunk {
		jobs = append(jobs, from)
	}
	var mu sync.Mutex
	var total certificates.ScaleResult
	start := time.Now()
	return inParallel(ctx, jobs, func(ctx context.Context, from int64) error {
		to := min(hi, from+scaleCertChunk-1)
		if done, err := certificates.AnyForEnrolments(ctx, s.DB, w.allProviders(), from, to); err != nil || done {
			return err
		}
		var r certificates.ScaleResult
		err := pg.Replica(ctx, s.Bulk, func(ctx context.Context, conn bun.Conn, tx bun.Tx) error {
			src := certificates.ScaleSources{
				Certified:  assessments.ScalePasses(tx, from, to).UnionAll(enrolment.ScaleCompletions(tx, from, to, w.sittingsSince())),
				Enrolments: enrolment.InStatus(tx, "completed"), Classes: classes.Providers(tx),
				Plans: catalog.PlanFacts(tx), Holders: workers.Holders(tx), Providers: orgs.SiteCodes(tx),
				Courses: catalog.VersionCourses(tx)}
			var err error
			r, err = s.Certificates.IssueScale(ctx, conn, tx, src, numbers)
			return err
		})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		total.Issued, total.Revoked, total.Expired = total.Issued+r.Issued, total.Revoked+r.Revoked, total.Expired+r.Expired
		total.Draft, total.Sign, total.Copy = total.Draft+r.Draft, total.Sign+r.Sign, total.Copy+r.Copy
		fmt.Fprintf(w.out, "certificates: enrolments %d–%d of %d, %d issued (%d revoked, %d expired; %.0f/s; draft %s, sign %s, copy %s)\n",
			from, to, hi, total.Issued, total.Revoked, total.Expired, float64(total.Issued)/time.Since(start).Seconds(),
			total.Draft.Round(time.Second), total.Sign.Round(time.Second), total.Copy.Round(time.Second))
		return nil
	})
}

// scaleEligibilityEvery samples the workers whose eligibility the seed
// evaluates: the nightly refresh of every worker would take half an hour
// at a million (≈ 4 600 results a second measured there), so the seed
// runs it for one in eight holders of a certificate still in its claim
// window (≈ 37 000 workers, 270 000 results at a million), enough for
// proposals and claims in flight.
const scaleEligibilityEvery = 8

// claimWindowFrom is the first issue date still in the claim window
// (12 months, the policy parameters' value).
func (w *scaleWorld) claimWindowFrom() time.Time { return w.asOf.AddDate(-1, 0, 0) }

// scaleEligibility stores the eligibility of the sample of workers
// (claims.Service.RefreshWorkers), so the proposals list has data and the
// claims in flight are filed from its results.
func scaleEligibility(ctx context.Context, s Services, w *scaleWorld) error {
	lo, hi, err := workers.IDRange(ctx, s.DB, w.registrars())
	if err != nil || lo == 0 {
		return err
	}
	// Once claims are filed, the refresh would judge them too: a rerun
	// leaves the world as the first run made it.
	if done, err := claims.AnyScale(ctx, s.DB, lo, hi); err != nil || done {
		return err
	}
	ids, err := certificates.RecentHolders(ctx, s.Bulk, w.claimWindowFrom(), scaleEligibilityEvery, lo, hi)
	if err != nil {
		return err
	}
	// Two batches at once: a refresh batch waits on its queries one after
	// another, which leaves the second core idle.
	var jobs []int64
	for from := 0; from < len(ids); from += claims.RefreshBatch {
		jobs = append(jobs, int64(from))
	}
	var mu sync.Mutex
	var total claims.RefreshResult
	err = inParallel(ctx, jobs, func(ctx context.Context, from int64) error {
		r, err := s.Claims.RefreshWorkers(ctx, ids[from:min(len(ids), int(from)+claims.RefreshBatch)])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		total.Workers, total.Results, total.Eligible = total.Workers+r.Workers, total.Results+r.Results, total.Eligible+r.Eligible
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w.out, "eligibility: %d workers, %d results, %d eligible\n", total.Workers, total.Results, total.Eligible)
	return nil
}

// scaleClaims files claims in every status for about four in five of the
// eligible results (claims.GenerateScale), worker range by range; a
// rerun adds none where a claim exists.
func scaleClaims(ctx context.Context, s Services, w *scaleWorld) error {
	reviewer, err := s.principal(ctx, "hr_reviewer1")
	if err != nil {
		return err
	}
	approver, err := s.principal(ctx, "hr_approver1")
	if err != nil {
		return err
	}
	lo, hi, err := workers.IDRange(ctx, s.DB, w.registrars())
	if err != nil || lo == 0 {
		return err
	}
	// Two worker ranges at once; 125 000 workers a statement.
	const chunk = 125_000
	var jobs []int64
	for from := lo; from <= hi; from += chunk {
		jobs = append(jobs, from)
	}
	var mu sync.Mutex
	total := 0
	return inParallel(ctx, jobs, func(ctx context.Context, from int64) error {
		to := min(hi, from+chunk-1)
		if done, err := claims.AnyScale(ctx, s.DB, from, to); err != nil || done {
			return err
		}
		// Triggers off: with them, the two streams queued on the
		// overview rollup's rows (rebuilt at the end, scaleStatistics).
		n := 0
		err := pg.Replica(ctx, s.Bulk, func(ctx context.Context, _ bun.Conn, tx bun.Tx) error {
			var err error
			n, err = claims.GenerateScale(ctx, tx, certificates.ScaleClaimable(tx), from, to,
				reviewer.UserID, approver.UserID, w.claimWindowFrom(), w.asOf)
			return err
		})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		total += n
		fmt.Fprintf(w.out, "claims: workers %d–%d of %d, %d claims\n", from, to, hi, total)
		return nil
	})
}

// scalePayouts puts the batched, paid and returned claims in payout
// batches (payouts.GenerateScale), items written with triggers off and the
// batches' totals computed with them.
func scalePayouts(ctx context.Context, s Services, w *scaleWorld) error {
	by, err := s.principal(ctx, "hr_approver2")
	if err != nil {
		return err
	}
	return pg.Replica(ctx, s.Bulk, func(ctx context.Context, _ bun.Conn, tx bun.Tx) error {
		b, n, err := payouts.GenerateScale(ctx, tx, claims.ScaleToPay(tx), by.UserID, w.asOf)
		fmt.Fprintf(w.out, "payout batches: %d batches, %d items\n", b, n)
		return err
	})
}

// scaleStatistics refreshes the planner's statistics of what the seed
// wrote: until autovacuum gets there the planner sees the tables as they
// were, and the lists' estimated totals would be those of empty tables.
func scaleStatistics(ctx context.Context, s Services, _ *scaleWorld) error {
	// The loads ran with the triggers off, the overview's rollup among them.
	if err := payouts.RebuildRollup(ctx, s.Bulk); err != nil {
		return err
	}
	if err := workers.Analyze(ctx, s.Bulk); err != nil {
		return err
	}
	for _, analyze := range []func(context.Context, bun.IDB) error{classes.Analyze, enrolment.Analyze,
		attendance.Analyze, assessments.Analyze, certificates.Analyze, claims.Analyze, payouts.Analyze} {
		if err := analyze(ctx, s.Bulk); err != nil {
			return err
		}
	}
	return nil
}
