package subsidies

import (
	"strings"
	"testing"
)

// BenchmarkEvaluateOneCertificate measures one situation with one
// certificate (three subsidies) against the default parameters; the goal is
// at least 100 000 evaluations per second on one core.
func BenchmarkEvaluateOneCertificate(b *testing.B) {
	s, err := DecodeSituation(strings.NewReader(validSituation))
	if err != nil {
		b.Fatal(err)
	}
	ps := defaultSet(b)
	b.ReportAllocs()
	for b.Loop() {
		ev := Evaluate(s, ps)
		if len(ev.Results) != 3 {
			b.Fatal("wrong result count")
		}
	}
}

// BenchmarkDecodeAndEvaluate adds the strict JSON decoding the API does.
func BenchmarkDecodeAndEvaluate(b *testing.B) {
	ps := defaultSet(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := DecodeSituation(strings.NewReader(validSituation))
		if err != nil {
			b.Fatal(err)
		}
		Evaluate(s, ps)
	}
}
