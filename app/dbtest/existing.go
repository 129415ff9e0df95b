package dbtest

import (
	"context"
	"errors"

	"github.com/uptrace/bun"
)

// Existing connects, as its owner, to a test database another process
// created: a child process that a test starts (and may kill) works on its
// parent's package database, which the parent drops. close releases both
// connections.
func Existing(name string) (db *bun.DB, close func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s, err := openServer(ctx)
	if err != nil {
		return nil, nil, err
	}
	db = s.Database(name)
	return db, func() error { return errors.Join(db.Close(), s.Close()) }, nil
}
