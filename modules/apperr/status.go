package apperr

import "net/http"

// Status is the HTTP status err answers with: the one place an error kind
// becomes a status, used by the server's error handler for API problems and
// error pages and by every page that re-renders a form with its errors.
// Errors that are not *Error are internal (500).
func Status(err error) int {
	e, ok := As(err)
	if !ok {
		return http.StatusInternalServerError
	}
	// Two codes keep the status the client's own request earned, though
	// their kinds are shared with commoner errors.
	switch e.Code {
	case "method_not_allowed":
		return http.StatusMethodNotAllowed
	case "header_too_large":
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return e.Kind.Status()
}

// Status is the HTTP status of errors of kind k.
func (k Kind) Status() int {
	switch k {
	case KindInvalid:
		return http.StatusUnprocessableEntity
	case KindBadRequest:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindForbidden:
		return http.StatusForbidden
	case KindUnauthorized:
		return http.StatusUnauthorized
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindRateLimited:
		return http.StatusTooManyRequests
	case KindUnsupported:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

// Problem is the problem+json document (RFC 9457) of e; requestID is added
// when not empty so a person can quote it to support.
func Problem(e *Error, requestID string) map[string]any {
	status := Status(e)
	problem := map[string]any{
		"type":   "urn:tuoyu:problem:" + e.Code,
		"title":  http.StatusText(status),
		"status": status,
		"detail": e.Message,
		"code":   e.Code,
	}
	if requestID != "" {
		problem["request_id"] = requestID
	}
	if len(e.Fields) > 0 {
		problem["errors"] = e.Fields
	}
	for k, v := range e.Extra {
		problem[k] = v
	}
	return problem
}
