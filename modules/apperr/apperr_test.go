package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestWithRefusesReservedMembers(t *testing.T) {
	for _, key := range []string{"type", "title", "status", "detail", "code", "errors", "request_id"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("With(%q) did not refuse a reserved member", key)
				}
			}()
			Conflict("x", "y").With(key, 1)
		}()
	}
	e := Conflict("already_enrolled", "已报名").With("enrolment_status", "enrolled")
	if e.Extra["enrolment_status"] != "enrolled" {
		t.Fatal("extra member lost")
	}
}

func TestAsThroughWrapping(t *testing.T) {
	err := fmt.Errorf("enrol worker 1: %w", NotFound("worker_not_found", "学员不存在"))
	if !Is(err, "worker_not_found") || KindOf(err) != KindNotFound {
		t.Fatalf("wrapped error lost its code or kind: %v", err)
	}
	if KindOf(errors.New("boom")) != KindInternal || Is(errors.New("x"), "x") {
		t.Fatal("plain errors must be internal and carry no code")
	}
}
