// Package workerstest helps tests of modules that need workers: a fixed
// personal-data cipher, organisations, users as principals, and workers
// with valid generated ID numbers.
package workerstest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

// Cipher returns a cipher with a fixed test key.
func Cipher(t testing.TB) *pii.Cipher {
	t.Helper()
	c, err := pii.New(bytes.Repeat([]byte{0x42}, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var seq atomic.Int64

// Org inserts an organisation of kind in region and returns its id.
func Org(t testing.TB, db bun.IDB, kind, region string) int64 {
	t.Helper()
	n := seq.Add(1)
	o := orgs.Organisation{Code: fmt.Sprintf("t-%s-%d", kind, n), Name: fmt.Sprintf("测试%s%d", kind, n),
		Kind: kind, RegionCode: region, Active: true}
	if err := orgs.NewStore(db).Insert(context.Background(), &o); err != nil {
		t.Fatalf("insert organisation: %v", err)
	}
	return o.ID
}

// Staff inserts a user of role in organisation orgID (region is the
// organisation's) and returns them as a principal.
func Staff(t testing.TB, db bun.IDB, role accounts.Role, orgID int64, region string) *accounts.Principal {
	t.Helper()
	n := seq.Add(1)
	name := fmt.Sprintf("t_%s_%d", role, n)
	u := accounts.User{Username: name, Role: role, OrganisationID: orgID, PasswordHash: "x", Active: true}
	if err := accounts.NewStore(db).InsertUser(context.Background(), &u); err != nil {
		t.Fatalf("insert user: %v", err)
	}
	return &accounts.Principal{UserID: u.ID, Username: name, Role: role, OrgID: orgID,
		OrgKind: accounts.OrgKindFor(role), Region: region}
}

// WorkerUser inserts a worker login for worker id and returns it as a principal.
func WorkerUser(t testing.TB, db bun.IDB, workerID int64) *accounts.Principal {
	t.Helper()
	name := fmt.Sprintf("t_worker_%d", seq.Add(1))
	u := accounts.User{Username: name, Role: accounts.RoleWorker, WorkerID: workerID, PasswordHash: "x", Active: true}
	if err := accounts.NewStore(db).InsertUser(context.Background(), &u); err != nil {
		t.Fatalf("insert worker user: %v", err)
	}
	return &accounts.Principal{UserID: u.ID, Username: name, Role: accounts.RoleWorker, WorkerID: workerID}
}

var (
	idMu   sync.Mutex
	idRand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	// idSeen keeps every number handed out: the space (≈ 3 million per area
	// and decade) makes repeats likely once a test package draws thousands,
	// and a repeat silently turned a "new" person into an existing one.
	idSeen = map[string]bool{}
)

// IDNumber returns a valid ID number in area for someone aged about 30,
// never the same one twice in a process.
func IDNumber(area string) string {
	idMu.Lock()
	defer idMu.Unlock()
	for {
		birth := time.Date(1990+idRand.IntN(10), time.Month(1+idRand.IntN(12)), 1+idRand.IntN(28), 0, 0, 0, 0, time.UTC)
		sex := workers.SexFemale
		if idRand.IntN(2) == 1 {
			sex = workers.SexMale
		}
		if id := workers.GenerateID(idRand, area, birth, sex); !idSeen[id] {
			idSeen[id] = true
			return id
		}
	}
}
