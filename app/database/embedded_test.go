package database_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"tuoyu/app/database"
)

// childEnv makes the test binary, re-executed by a test, open the embedded
// database in the directory it names and then wait to be killed.
const childEnv = "TUOYU_DATABASE_TEST_CHILD_DIR"

func runChild(dir string) {
	db, err := database.Open(context.Background(), database.Config{DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	_ = db
	fmt.Println("ready")
	time.Sleep(time.Hour)
	os.Exit(0)
}
