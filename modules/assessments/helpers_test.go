package assessments_test

import "strings"

func countOf(s, sub string) int   { return strings.Count(s, sub) }
func contains(s, sub string) bool { return strings.Contains(s, sub) }
