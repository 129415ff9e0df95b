package gofpdf

// PATCH: everything in this file was added to v1.16.2; see PATCHES.

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
)

// suppCIDFirst is the first CID given to a rune above U+FFFF. CIDs equal
// the rune for the BMP, and the surrogate block D800–DFFF holds no
// characters, so its 2 048 values are free for supplementary runes.
const (
	suppCIDFirst = 0xD800
	suppCIDLast  = 0xDFFF
)

// addFormat12 adds the mappings of the font's format-12 cmap subtable (the
// full Unicode repertoire) above U+FFFF to the dictionaries the format-4
// subtable filled. Fonts without one are left as they are.
func (utf *utf8FontFile) addFormat12(symbolChar map[int][]int, charSymbol map[int]int) {
	saved := utf.fileReader.readerPosition
	defer func() { utf.fileReader.readerPosition = saved }()
	cmap, ok := utf.tableDescriptions["cmap"]
	if !ok {
		return
	}
	end := len(utf.fileReader.array)
	utf.seek(cmap.position + 2)
	count := utf.readUint16()
	sub := 0
	for i := 0; i < count; i++ {
		platform, encoding, offset := utf.readUint16(), utf.readUint16(), utf.readUint32()
		if (platform == 3 && encoding == 10) || (platform == 0 && (encoding == 4 || encoding == 6)) {
			pos := cmap.position + offset
			if pos+16 <= end && utf.getUint16(pos) == 12 {
				sub = pos
				break
			}
		}
	}
	if sub == 0 {
		return
	}
	utf.seek(sub + 12)
	groups := utf.readUint32()
	if sub+16+groups*12 > end {
		return // a truncated table: keep what format 4 gave
	}
	for g := 0; g < groups; g++ {
		first, last, glyph := utf.readUint32(), utf.readUint32(), utf.readUint32()
		if last < first || last > 0x10FFFF {
			continue
		}
		for c := first; c <= last; c++ {
			if c <= 0xFFFF {
				continue // format 4 has these
			}
			id := glyph + c - first
			charSymbol[c] = id
			symbolChar[id] = append(symbolChar[id], c)
		}
	}
}

// utf8toCIDs encodes s as two-byte CIDs of the current UTF-8 font (the
// Identity-H encoding): a BMP rune is its own CID; a rune above U+FFFF gets
// the next free CID of the surrogate block, remembered per document so that
// its width, glyph and ToUnicode entry can be written with the font.
func (f *Fpdf) utf8toCIDs(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for _, r := range s {
		c := int(r)
		if c > 0xFFFF {
			c = f.currentFont.suppCID(c)
			if c == 0 && f.err == nil {
				f.err = fmt.Errorf("more than %d characters above U+FFFF in font %s", suppCIDLast-suppCIDFirst+1, f.currentFont.Name)
			}
		}
		b.WriteByte(byte(c >> 8))
		b.WriteByte(byte(c))
	}
	return b.String()
}

// suppCID returns the CID of supplementary rune r in this document,
// allocating it on first use; 0 (.notdef) when the block is full.
func (font fontDefType) suppCID(r int) int {
	if cid, ok := font.suppCIDs[r]; ok {
		return cid
	}
	cid := suppCIDFirst + len(font.suppCIDs)
	if cid > suppCIDLast {
		return 0
	}
	font.suppCIDs[r] = cid
	return cid
}

// cidView returns the font as generateCIDFontMap wants it, with widths and
// used marks indexed by CID instead of by rune, and the highest CID used.
func (font fontDefType) cidView() (fontDefType, int) {
	last := 0
	for r := range font.usedRunes {
		if r <= 0xFFFF && r > last {
			last = r
		}
	}
	if len(font.suppCIDs) == 0 {
		return font, last
	}
	cw := make([]int, 0x10000)
	copy(cw, font.Cw)
	used := make(map[int]int, len(font.usedRunes))
	for r, v := range font.usedRunes {
		if r <= 0xFFFF {
			used[r] = v
		}
	}
	for r, cid := range font.suppCIDs {
		if r < len(font.Cw) {
			cw[cid] = font.Cw[r]
		}
		used[cid] = cid
		if cid > last {
			last = cid
		}
	}
	font.Cw, font.usedRunes = cw, used
	return font, last
}

// toUnicodeCMap is the font's ToUnicode CMap: identity for the BMP and,
// for the CIDs given to supplementary runes, the rune as a UTF-16
// surrogate pair, so that text extraction gives the character back.
func (font fontDefType) toUnicodeCMap() string {
	if len(font.suppCIDs) == 0 {
		return toUnicode
	}
	cids := make([]int, 0, len(font.suppCIDs))
	runeOf := make(map[int]int, len(font.suppCIDs))
	for r, cid := range font.suppCIDs {
		cids = append(cids, cid)
		runeOf[cid] = r
	}
	sort.Ints(cids)
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	b.WriteString("2 beginbfrange\n<0000> <D7FF> <0000>\n<E000> <FFFF> <E000>\nendbfrange\n")
	for i := 0; i < len(cids); i += 100 { // at most 100 entries per block
		j := i + 100
		if j > len(cids) {
			j = len(cids)
		}
		fmt.Fprintf(&b, "%d beginbfchar\n", j-i)
		for _, cid := range cids[i:j] {
			v := runeOf[cid] - 0x10000
			fmt.Fprintf(&b, "<%04X> <%04X%04X>\n", cid, 0xD800+(v>>10), 0xDC00+(v&0x3FF))
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	return b.String()
}

// subsetTag is the six capital letters that name a font subset (PDF 32000
// 9.6.4), taken from a hash of the font and the runes it holds: the same
// subset always gets the same tag, different subsets almost never share one.
func subsetTag(fontName string, usedRunes map[int]int) string {
	runes := make([]int, 0, len(usedRunes))
	for r := range usedRunes {
		runes = append(runes, r)
	}
	sort.Ints(runes)
	h := sha256.New()
	h.Write([]byte(fontName))
	for _, r := range runes {
		h.Write([]byte{byte(r >> 16), byte(r >> 8), byte(r)})
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}

// utf8FontCache holds the tables of a font that cutting a subset reads but
// never changes.
type utf8FontCache struct {
	charSymbol     map[int]int
	symbolPosition []int
	locaFormat     int
	metricsCount   int
}

// UTF8FontSource is a TrueType font parsed once and then added to any number
// of documents, concurrently, with AddUTF8FontFromSource. Parsing a large CJK
// font takes far longer than writing a page, so a program that writes many
// documents parses it once.
type UTF8FontSource struct {
	file utf8FontFile
	desc FontDescType
	up   int
	ut   int
	id   string
}

// ParseUTF8Font parses a TrueType font (glyf outlines; not a collection and
// not CFF) for AddUTF8FontFromSource.
func ParseUTF8Font(data []byte) (src *UTF8FontSource, err error) {
	defer func() {
		if r := recover(); r != nil { // the parser indexes without checks
			src, err = nil, fmt.Errorf("parse font: %v", r)
		}
	}()
	reader := fileReader{array: data}
	utf := newUTF8Font(&reader)
	if err := utf.parseFile(); err != nil {
		return nil, err
	}
	// What GenerateCutFont would parse again for every document.
	utf.seek(0)
	utf.skip(4)
	utf.generateTableDescriptions()
	utf.SeekTable("head")
	utf.skip(50)
	locaFormat := utf.readUint16()
	utf.SeekTable("hhea")
	utf.skip(34)
	metricsCount := utf.readUint16()
	utf.SeekTable("maxp")
	utf.skip(4)
	numSymbols := utf.readUint16()
	if utf.generateCMAP() == nil {
		return nil, fmt.Errorf("font has no Unicode cmap")
	}
	utf.parseLOCATable(locaFormat, numSymbols)
	utf.cache = &utf8FontCache{
		charSymbol:     utf.charSymbolDictionary,
		symbolPosition: utf.symbolPosition,
		locaFormat:     locaFormat,
		metricsCount:   metricsCount,
	}
	src = &UTF8FontSource{
		file: *utf,
		desc: FontDescType{
			Ascent:       int(utf.Ascent),
			Descent:      int(utf.Descent),
			CapHeight:    utf.CapHeight,
			Flags:        utf.Flags,
			FontBBox:     utf.Bbox,
			ItalicAngle:  utf.ItalicAngle,
			StemV:        utf.StemV,
			MissingWidth: round(utf.DefaultWidth),
		},
		up: int(round(utf.UnderlinePosition)),
		ut: round(utf.UnderlineThickness),
	}
	sum := sha256.Sum256(data)
	src.id = fmt.Sprintf("%x", sum[:20])
	return src, nil
}

// HasRune reports whether the font has a glyph for r.
func (src *UTF8FontSource) HasRune(r rune) bool {
	g, ok := src.file.cache.charSymbol[int(r)]
	return ok && g != 0
}

// MissingRunes returns the runes of s the font has no glyph for, each once,
// in order of appearance. Control characters count as missing.
func (src *UTF8FontSource) MissingRunes(s string) []rune {
	var out []rune
	seen := map[rune]bool{}
	for _, r := range s {
		if !src.HasRune(r) && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// AddUTF8FontFromSource makes a font parsed by ParseUTF8Font available to
// this document under family and style, like AddUTF8FontFromBytes but
// without parsing it again.
func (f *Fpdf) AddUTF8FontFromSource(familyStr, styleStr string, src *UTF8FontSource) {
	if f.err != nil {
		return
	}
	familyStr = fontFamilyEscape(familyStr)
	fontkey := getFontKey(familyStr, styleStr)
	if _, ok := f.fonts[fontkey]; ok {
		return
	}
	file := src.file // a per-document copy: cutting a subset moves the reader
	file.fileReader = &fileReader{array: src.file.fileReader.array}
	var sbarr map[int]int
	if f.aliasNbPagesStr == "" {
		sbarr = makeSubsetRange(57)
	} else {
		sbarr = makeSubsetRange(32)
	}
	def := fontDefType{
		Tp:        "UTF8",
		Name:      fontkey,
		Desc:      src.desc,
		Up:        src.up,
		Ut:        src.ut,
		Cw:        src.file.CharWidths,
		utf8File:  &file,
		usedRunes: sbarr,
		suppCIDs:  make(map[int]int),
	}
	def.i = src.id
	f.fonts[fontkey] = def
}

// generateCutFontCached is GenerateCutFont for a font parsed once: the
// cached cmap and loca tables stand in for parsing them again.
func (utf *utf8FontFile) generateCutFontCached(usedRunes map[int]int) []byte {
	c := utf.cache
	utf.fileReader.readerPosition = 0
	utf.outTablesData = make(map[string][]byte)
	utf.skip(4)
	utf.LastRune = 0
	utf.generateTableDescriptions()
	utf.charSymbolDictionary = c.charSymbol
	utf.symbolPosition = c.symbolPosition
	return utf.cutFont(usedRunes, c.locaFormat, c.metricsCount)
}
