package payouts

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// Series is one set of bars in a chart: a name for the legend, a colour and
// one value per label.
type Series struct {
	Name   string
	Colour string // an SVG colour such as #2b6cb0; from the code, never user input
	Values []int64
}

// Chart geometry, in SVG user units (the image scales to its container).
const (
	chartW      = 640
	chartH      = 260
	chartLeft   = 64
	chartRight  = 12
	chartTop    = 28
	chartBottom = 48
	// Beyond this many groups the labels are slanted, in a taller margin,
	// so that long names (恩施土家族苗族自治州) do not run into each other.
	slantAfter  = 8
	slantBottom = 110
)

// BarChart draws grouped bars as an inline SVG image: one group per label,
// one bar per series, a y axis with round ticks and a legend. It uses SVG
// presentation attributes only (fill, stroke, font-size), never style
// attributes or scripts, so the page's Content-Security-Policy holds. Text is
// escaped; title is the accessible name.
func BarChart(title string, labels []string, series []Series) template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	bottom, height := chartBottom, chartH
	slant := len(labels) > slantAfter
	if slant {
		bottom, height = slantBottom, chartH+slantBottom-chartBottom
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, height, esc(title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	var maxV int64
	for _, s := range series {
		for _, v := range s.Values {
			maxV = max(maxV, v)
		}
	}
	top, step := niceScale(maxV)
	plotW := float64(chartW - chartLeft - chartRight)
	plotH := float64(height - chartTop - bottom)
	y := func(v int64) float64 { return float64(chartTop) + plotH - plotH*float64(v)/float64(top) }
	// Grid lines and tick labels.
	for v := int64(0); v <= top; v += step {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d0d7de" stroke-width="1"/>`,
			chartLeft, chartW-chartRight, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#57606a">%s</text>`,
			chartLeft-6, y(v)+4, shortNumber(v))
	}
	if n := len(labels); n > 0 && len(series) > 0 {
		groupW := plotW / float64(n)
		barW := groupW * 0.8 / float64(len(series))
		for i, l := range labels {
			gx := float64(chartLeft) + groupW*float64(i) + groupW*0.1
			for j, s := range series {
				v := int64(0)
				if i < len(s.Values) {
					v = s.Values[i]
				}
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s：%d</title></rect>`,
					gx+barW*float64(j), y(v), max(barW-1, 1), float64(chartTop)+plotH-y(v), esc(s.Colour), esc(l), esc(s.Name), v)
			}
			if slant {
				x, y := gx+groupW*0.4, height-bottom+14
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="end" fill="#24292f" transform="rotate(-40 %.1f %d)">%s</text>`,
					x, y, x, y, esc(l))
			} else {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#24292f">%s</text>`,
					gx+groupW*0.4, height-bottom+16, esc(l))
			}
		}
	}
	// Legend, left to right along the bottom.
	lx := chartLeft
	for _, s := range series {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/>`, lx, height-18, esc(s.Colour))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#24292f">%s</text>`, lx+14, height-9, esc(s.Name))
		lx += 28 + 13*len([]rune(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: built from escaped text and numbers only
}

// niceScale returns the top of the y axis and the tick step: a step of 1, 2
// or 5 times a power of ten giving at most five intervals.
func niceScale(maxV int64) (top, step int64) {
	if maxV <= 0 {
		return 1, 1
	}
	raw := (maxV + 4) / 5
	mag := int64(1)
	for mag*10 <= raw {
		mag *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	top = ((maxV + step - 1) / step) * step
	return top, step
}

// shortNumber writes large tick values compactly: 15000 → 1.5万.
func shortNumber(v int64) string {
	if v >= 10000 && v%1000 == 0 {
		s := strconv.FormatFloat(float64(v)/10000, 'f', -1, 64)
		return s + "万"
	}
	return strconv.FormatInt(v, 10)
}
