package certificates

// The one file that imports gofpdf (a patched copy, third_party/gofpdf).

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jung-kurt/gofpdf"
	qrcode "github.com/skip2/go-qrcode"

	"tuoyu/modules/apperr"
)

// FontSearchList is where the certificate font is looked for when
// TUOYU_CERT_FONT is not set: LXGW WenKai as Debian installs it
// (fonts-lxgw-wenkai), then a copy shipped beside the binary.
var FontSearchList = []string{
	"/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
	"/usr/share/fonts/lxgw-wenkai/LXGWWenKai-Regular.ttf",
	"/usr/local/share/fonts/LXGWWenKai-Regular.ttf",
	"assets/fonts/LXGWWenKai-Regular.ttf",
}

// Renderer draws certificate PDFs. It parses its font once, on first use,
// and shares it between every document, also concurrently (parsing the
// full CJK font per document would cost more than the rest of the page).
type Renderer struct {
	path string
	once sync.Once
	font *gofpdf.UTF8FontSource
	err  error
}

// NewRenderer returns a renderer for the font at path ("" = the search
// list). Nothing is read until the first document.
func NewRenderer(path string) *Renderer { return &Renderer{path: path} }

func (r *Renderer) load() (*gofpdf.UTF8FontSource, error) {
	r.once.Do(func() {
		paths := FontSearchList
		if r.path != "" {
			paths = []string{r.path}
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			r.font, r.err = gofpdf.ParseUTF8Font(b)
			if r.err != nil {
				r.err = fmt.Errorf("certificate font %s: %w", p, r.err)
			}
			r.path = p
			return
		}
		r.err = fmt.Errorf("no certificate font found (set TUOYU_CERT_FONT, or install fonts-lxgw-wenkai); tried %s", strings.Join(paths, ", "))
	})
	return r.font, r.err
}

// FontPath is the font file in use ("" before the first document).
func (r *Renderer) FontPath() string { return r.path }

// errFont is what issuing says when the font cannot be loaded: an
// operator's problem, so no detail for the person beyond that.
func errFont(err error) error {
	return apperr.Invalid("font_unavailable", "证书字体不可用，请联系平台管理员").Wrap(err)
}

// CheckText refuses text the font has no glyph for, naming the first
// such character, so that no certificate shows a blank box.
// Errors: Invalid glyph_missing, font_unavailable.
func (r *Renderer) CheckText(texts ...string) error {
	font, err := r.load()
	if err != nil {
		return errFont(err)
	}
	for _, t := range texts {
		if missing := font.MissingRunes(t); len(missing) > 0 {
			c := missing[0]
			return apperr.Invalid("glyph_missing",
				fmt.Sprintf("证书字体中没有字符“%c”（U+%04X），无法出具证书；请核对姓名或联系平台管理员", c, c))
		}
	}
	return nil
}

// page is everything a certificate shows, as text.
type page struct {
	title, header     string
	lines             [][2]string
	issuer, signatory string
	number, url       string
	seal              []byte
	layout            string
	created           time.Time
}

func pageOf(c Certificate, t Template) page {
	p := page{
		title: c.Kind.Label(), header: t.Title, issuer: t.IssuerName, signatory: t.Signatory,
		number: c.Number, url: c.VerifyURL, seal: t.SealPNG, layout: t.Layout, created: c.IssuedAt.UTC(),
	}
	p.lines = append(p.lines, [2]string{"姓　　名", c.HolderName}, [2]string{"身份证号", c.HolderIDMask})
	if c.Kind == KindSkill {
		p.lines = append(p.lines, [2]string{"职业（工种）", c.OccupationLabel()}, [2]string{"等　　级", c.LevelLabel()})
	} else {
		p.lines = append(p.lines, [2]string{"培训项目", c.PlanName})
	}
	if c.Hours != nil {
		p.lines = append(p.lines, [2]string{"培训学时", c.Hours.String() + " 学时"})
	}
	p.lines = append(p.lines, [2]string{"发证日期", chineseDate(c.IssuedOn)})
	if c.ExpiresOn != nil {
		p.lines = append(p.lines, [2]string{"有效期至", chineseDate(*c.ExpiresOn)})
	}
	p.lines = append(p.lines, [2]string{"发证机构", c.IssuerName}, [2]string{"证书编号", c.Number})
	return p
}

func chineseDate(d time.Time) string {
	return fmt.Sprintf("%d年%02d月%02d日", d.Year(), int(d.Month()), d.Day())
}

// texts is every string the page prints, for CheckText.
func (p page) texts() []string {
	out := []string{p.title, p.header, p.issuer, p.signatory, p.number, p.url, "签发：", "扫码或访问以下网址核验", "："}
	for _, l := range p.lines {
		out = append(out, l[0], l[1])
	}
	return out
}

// Render draws certificate c with template t: A4 landscape, deterministic
// (the same certificate and template always give the same bytes).
// Errors: Invalid glyph_missing, font_unavailable.
func (r *Renderer) Render(c Certificate, t Template) ([]byte, error) {
	p := pageOf(c, t)
	if err := r.CheckText(p.texts()...); err != nil {
		return nil, err
	}
	font, _ := r.load()
	qr, err := qrPNG(p.url)
	if err != nil {
		return nil, fmt.Errorf("QR code of %s: %w", p.url, err)
	}

	pdf := gofpdf.New("L", "mm", "A4", "")
	// Fixed dates and a sorted catalogue make the output byte-identical
	// across processes (DESIGN §11).
	pdf.SetCreationDate(p.created)
	pdf.SetModificationDate(p.created)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetTitle(p.title+" "+p.number, true)
	pdf.SetCreator("tuoyu", true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddUTF8FontFromSource("wenkai", "", font)
	pdf.AddPage()

	// Frame.
	pdf.SetDrawColor(150, 30, 30)
	pdf.SetLineWidth(1.2)
	pdf.Rect(10, 10, 277, 190, "D")
	if p.layout != "plain" {
		pdf.SetLineWidth(0.4)
		pdf.Rect(14, 14, 269, 182, "D")
	}

	pdf.SetTextColor(40, 40, 40)
	pdf.SetFont("wenkai", "", 14)
	pdf.SetXY(14, 22)
	pdf.CellFormat(269, 8, p.header, "", 0, "C", false, 0, "")
	pdf.SetTextColor(150, 30, 30)
	pdf.SetFont("wenkai", "", 32)
	pdf.SetXY(14, 34)
	pdf.CellFormat(269, 16, p.title, "", 0, "C", false, 0, "")

	pdf.SetTextColor(20, 20, 20)
	y := 64.0
	for _, l := range p.lines {
		pdf.SetFont("wenkai", "", 15)
		pdf.SetXY(40, y)
		pdf.CellFormat(38, 9, l[0]+"：", "", 0, "R", false, 0, "")
		pdf.CellFormat(130, 9, l[1], "", 0, "L", false, 0, "")
		y += 11
	}

	pdf.SetFont("wenkai", "", 13)
	pdf.SetXY(40, 178)
	pdf.CellFormat(150, 8, "签发："+p.issuer+"　"+p.signatory, "", 0, "L", false, 0, "")
	if len(p.seal) > 0 {
		opt := gofpdf.ImageOptions{ImageType: "PNG"}
		pdf.RegisterImageOptionsReader("seal", opt, bytes.NewReader(p.seal))
		pdf.ImageOptions("seal", 150, 140, 40, 40, false, opt, 0, "")
	}

	opt := gofpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader("qr", opt, bytes.NewReader(qr))
	pdf.ImageOptions("qr", 222, 120, 46, 46, false, opt, 0, "")
	pdf.SetFont("wenkai", "", 9)
	pdf.SetXY(200, 167)
	pdf.CellFormat(90, 5, "扫码或访问以下网址核验", "", 0, "C", false, 0, "")
	pdf.SetFont("wenkai", "", 7)
	pdf.SetXY(200, 172)
	pdf.CellFormat(90, 5, p.url, "", 0, "C", false, 0, "")

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render certificate %s: %w", c.Number, err)
	}
	return buf.Bytes(), nil
}

// CheckSeal checks that a template's seal image is a PNG gofpdf can embed.
// Errors: Invalid invalid_seal.
func CheckSeal(png []byte) error {
	if len(png) == 0 {
		return nil
	}
	pdf := gofpdf.New("L", "mm", "A4", "")
	pdf.AddPage()
	opt := gofpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader("seal", opt, bytes.NewReader(png))
	if pdf.Err() {
		return apperr.Invalid("invalid_seal", "印章图片须为 PNG 格式（不含隔行扫描）", apperr.FieldError{Field: "seal", Code: "invalid_seal", Message: "印章图片无法读取"})
	}
	return nil
}

// Digest is the SHA-256 of a PDF, as stored at issue.
func Digest(pdf []byte) []byte {
	sum := sha256.Sum256(pdf)
	return sum[:]
}

// qrPNG draws the QR code of url as a PNG of one pixel per module (quiet
// zone included), two colours: the PDF scales it up without smoothing, so
// it prints as sharp as a large image at a fraction of the encoding time.
func qrPNG(url string) ([]byte, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap()
	img := image.NewPaletted(image.Rect(0, 0, len(bm), len(bm)), color.Palette{color.White, color.Black})
	for y, row := range bm {
		for x, dark := range row {
			if dark {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
