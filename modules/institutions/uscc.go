package institutions

import "strings"

// usccChars are the characters of a unified social credit code (GB
// 32100-2015) in the order of their values 0–30: digits and capital letters
// without I, O, S, V and Z.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights 3^(i) mod 31 of the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// NormalizeUSCC trims a code and upper-cases it, as people type it.
func NormalizeUSCC(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ValidUSCC reports whether s is a unified social credit code with a correct
// GB 32100 check character: 18 characters from the code's alphabet, six
// digits of region code at positions 3–8, and the 18th character equal to
// 31 − (Σ value×weight mod 31), with 31 written as 0.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(usccChars, s[i])
		if v < 0 || (i >= 2 && i < 8 && v > 9) {
			return false
		}
		if i < 17 {
			sum += v * usccWeights[i]
		}
	}
	check := (31 - sum%31) % 31
	return usccChars[check] == s[17]
}

// USCCCheckChar returns the check character for the first 17 characters of
// a code (tests and the demo seed build valid codes with it).
func USCCCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccChars, first17[i]) * usccWeights[i]
	}
	return usccChars[(31-sum%31)%31]
}
