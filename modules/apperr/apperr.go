// Package apperr defines the error values every module returns: a kind that
// decides the HTTP status, a stable machine code, a message safe to show a
// person (in Chinese) and, for validation, the fields and rows at fault.
// The server maps them to HTTP in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Kind is the category of an error; the server maps each kind to one status.
type Kind int

const (
	KindInternal     Kind = iota // a bug or an outage: 500, logged
	KindInvalid                  // the request is malformed or breaks a rule: 422 (400 for syntax)
	KindBadRequest               // the request cannot be parsed at all: 400
	KindNotFound                 // absent or outside the caller's scope: 404
	KindConflict                 // clashes with stored state: 409
	KindForbidden                // authenticated but not allowed: 403
	KindUnauthorized             // not authenticated: 401
	KindTooLarge                 // body or file over a limit: 413
	KindRateLimited              // too many requests or a locked account: 429
	KindUnsupported              // wrong media type or file format: 415
)

// FieldError names one field (and row, for files) that failed validation.
type FieldError struct {
	Field   string `json:"field"`
	Row     int    `json:"row,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is the error value modules return to handlers.
type Error struct {
	Kind    Kind
	Code    string // stable snake_case machine code
	Message string // safe to show a person, in Chinese
	Fields  []FieldError
	Extra   map[string]any // extra members for the problem document
	Err     error          // wrapped cause, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Is reports whether err carries the given code.
func Is(err error, code string) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

// KindOf returns the kind of err, KindInternal when it is not an *Error.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return KindInternal
}

func newErr(k Kind, code, msg string) *Error { return &Error{Kind: k, Code: code, Message: msg} }

// NotFound reports a record that does not exist or is outside the caller's scope.
func NotFound(code, msg string) *Error { return newErr(KindNotFound, code, msg) }

// Invalid reports a request that breaks a rule, with the fields at fault.
func Invalid(code, msg string, fields ...FieldError) *Error {
	e := newErr(KindInvalid, code, msg)
	e.Fields = fields
	return e
}

// BadRequest reports a request that cannot be parsed.
func BadRequest(code, msg string) *Error { return newErr(KindBadRequest, code, msg) }

// Conflict reports a clash with stored state (duplicates, wrong state).
func Conflict(code, msg string) *Error { return newErr(KindConflict, code, msg) }

// Forbidden reports an authenticated caller who may not do this.
func Forbidden(code, msg string) *Error { return newErr(KindForbidden, code, msg) }

// Unauthorized reports a missing or bad login.
func Unauthorized(code, msg string) *Error { return newErr(KindUnauthorized, code, msg) }

// TooLarge reports a body or file over a limit.
func TooLarge(code, msg string) *Error { return newErr(KindTooLarge, code, msg) }

// RateLimited reports too many requests or a locked account.
func RateLimited(code, msg string) *Error { return newErr(KindRateLimited, code, msg) }

// Unsupported reports a file or media type the endpoint does not take.
func Unsupported(code, msg string) *Error { return newErr(KindUnsupported, code, msg) }

// Internal wraps an unexpected error; its cause is logged, never shown.
func Internal(err error) *Error {
	return &Error{Kind: KindInternal, Code: "internal", Message: "服务器内部错误，请稍后重试", Err: err}
}

// Wrap attaches a cause to e and returns it.
func (e *Error) Wrap(err error) *Error { e.Err = err; return e }

// With adds an extra member to the problem document and returns e. The
// members RFC 9457 and the API define (type, title, status, detail, code,
// errors, request_id) cannot be overwritten: using one is a programming
// error and panics, so a test finds it.
func (e *Error) With(key string, v any) *Error {
	switch key {
	case "type", "title", "status", "detail", "code", "errors", "request_id":
		panic("apperr: With(" + key + "): reserved problem member")
	}
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[key] = v
	return e
}
