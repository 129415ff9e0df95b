// Package enrolment runs training delivery: classes (one provider's run of a
// plan), enrolments of workers in classes with a waiting list per class and
// per plan, attendance hours per course, and completion, recomputed in the
// same transaction as every attendance change.
package enrolment
