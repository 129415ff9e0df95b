package attendance

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// OutcomeFunc returns the assessment outcome (in_training,
// awaiting_assessment, passed, failed) and attempts left of an enrolment.
// The assessments module sits above attendance, so app injects it.
type OutcomeFunc func(ctx context.Context, enrolmentID int64) (string, int, error)

// WithOutcome makes GET /api/v1/enrolments/{id} show the enrolment's
// outcome and attempts left, and returns h.
func (h *Handler) WithOutcome(f OutcomeFunc) *Handler {
	h.outcome = f
	return h
}

// enrolmentOutcomeJSON is an enrolment with its assessment outcome.
type enrolmentOutcomeJSON struct {
	EnrolmentJSON
	Outcome      string `json:"outcome"`
	AttemptsLeft int    `json:"attempts_left"`
}

func (h *Handler) withOutcome(c *fiber.Ctx, e EnrolmentJSON) error {
	if h.outcome == nil {
		return c.JSON(e)
	}
	o, left, err := h.outcome(c.UserContext(), e.ID)
	if err != nil {
		return err
	}
	return c.JSON(enrolmentOutcomeJSON{EnrolmentJSON: e, Outcome: o, AttemptsLeft: left})
}
