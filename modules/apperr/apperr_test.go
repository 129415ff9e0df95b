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

func TestStatusIsOneMappingForEveryKind(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{Invalid("x", "y"), 422}, {BadRequest("x", "y"), 400}, {NotFound("x", "y"), 404},
		{Conflict("x", "y"), 409}, {Forbidden("x", "y"), 403}, {Unauthorized("x", "y"), 401},
		{TooLarge("x", "y"), 413}, {RateLimited("x", "y"), 429}, {Unsupported("x", "y"), 415},
		{Internal(errors.New("boom")), 500}, {errors.New("plain"), 500},
		{fmt.Errorf("wrapped: %w", Forbidden("four_eyes", "y")), 403},
		{NotFound("method_not_allowed", "y"), 405}, {TooLarge("header_too_large", "y"), 431},
	}
	for _, c := range cases {
		if got := Status(c.err); got != c.want {
			t.Errorf("Status(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	p := Problem(Invalid("bad", "坏", FieldError{Field: "f", Code: "c", Message: "m"}).With("hint", 1), "rid")
	if p["status"] != 422 || p["code"] != "bad" || p["request_id"] != "rid" || p["hint"] != 1 || p["errors"] == nil {
		t.Errorf("Problem = %v", p)
	}
}
