package e2e

import (
	crand "crypto/rand"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/workers"
)

// journey is one user flow of DESIGN §4, walked through the pages.
type journey struct {
	name string
	run  func(t *testing.T, srv *Server)
}

// TestJourneys walks the main flows of every role on one shared server, so
// the package stays fast: each journey starts its own browser (no cookie
// leaks between them) and changes only records it creates itself, or demo
// records no other journey reads.
func TestJourneys(t *testing.T) {
	srv := Start(t)
	// The group returns when every journey in it has ended.
	t.Run("side by side", func(t *testing.T) { parallelJourneys(t, srv) })
	// Alone after the others: it ends 公示 as of a later day, which makes
	// every claim in notice payable, and the payout journey batches what is
	// payable in 武汉.
	t.Run("worker claims, two HR staff decide, the notice is public, then payable", func(t *testing.T) {
		claimJourney(t, srv)
	})
	// The harness fails the test for any 5xx in the server log when the
	// server stops, after every journey ended.
}

func parallelJourneys(t *testing.T, srv *Server) {
	for _, j := range []journey{
		{"public subsidy calculator", calculatorJourney},
		{"worker finds a class and enrols", workerEnrolmentJourney},
		{"provider records a lesson from the grid", lessonGridJourney},
		{"provider uploads a sign-in sheet", signInSheetJourney},
		{"regulator bans and institution checks", banJourney},
		{"college uploads a roster", rosterJourney},
		{"admin adds a subsidy parameter value", parameterJourney},
		{"pages fit a phone", phoneJourney},
		{"provider schedules an assessment, worker sees the result", assessmentJourney},
		{"worker downloads a certificate, a stranger verifies it, revoked after", certificateJourney},
		{"approver pays a batch and takes back a return", payoutJourney},
	} {
		t.Run(j.name, func(t *testing.T) {
			// Journeys share no records, so they run side by side (as many
			// as -parallel, GOMAXPROCS by default): most of a journey is
			// waiting for Chromium and for password hashing.
			t.Parallel()
			j.run(t, srv)
		})
	}
}

// shanghai is the zone the server shows dates in (TUOYU_TZ's default).
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// today is the server's calendar day.
func today() time.Time {
	y, m, d := time.Now().In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, shanghai)
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// newIDNumber returns a valid resident ID number (GB 11643) of 武昌区 that
// no demo worker has: a random birth day between 1985 and 2004 on top of
// the random sequence number makes a clash with the 200 demo workers
// practically impossible.
func newIDNumber(r *rand.Rand) string {
	birth := time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(20*365))
	sex := workers.SexFemale
	if r.IntN(2) == 0 {
		sex = workers.SexMale
	}
	return workers.GenerateID(r, "420106", birth, sex)
}

// badCheckChar returns id with a wrong last (check) character.
func badCheckChar(id string) string {
	good := id[17]
	for _, c := range "0123456789X" {
		if byte(c) != good {
			return id[:17] + string(c)
		}
	}
	panic("unreachable")
}

// newRand returns a generator seeded from crypto/rand, so journeys running
// side by side never draw the same ID numbers.
func newRand() *rand.Rand {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.New(rand.NewChaCha8(seed))
}

// uniqueName returns a Chinese name no demo record has: 测 plus three
// characters drawn at random from a list demo names do not use.
func uniqueName(r *rand.Rand) string {
	chars := []rune("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥")
	var b strings.Builder
	b.WriteRune('测')
	for i := 0; i < 3; i++ {
		b.WriteRune(chars[r.IntN(len(chars))])
	}
	return b.String()
}

// missing returns the wanted substrings that s lacks.
func missing(s string, want ...string) []string {
	var out []string
	for _, w := range want {
		if !strings.Contains(s, w) {
			out = append(out, w)
		}
	}
	return out
}
