// Package certificates benchmarks the class ZIP of issue 11: 1 000
// distinct certificates rendered and stored in one ZIP exactly as the
// background export does (batches of 64 rendered on every core, stored
// uncompressed), without the database reads (one primary-key query per
// batch). It reports PDFs per second, bytes per PDF and the process's peak
// RSS. See README; figures go to docs/performance.md, "Certificates".
package certificates

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
)

func classOf(n int) ([]certificates.Certificate, map[int64]certificates.Template) {
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗吉")
	given := []rune("雨涵欣怡梓萱思彤佳可馨紫一诺子浩然宇轩晨曦雅琪梦瑶诗俊杰𠮷")
	issued := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	exp := issued.AddDate(1, 0, 0)
	h := catalog.H(72)
	out := make([]certificates.Certificate, n)
	for i := range out {
		code := fmt.Sprintf("7K3M-9QX2-%04d-EFGH-JKMN", i)
		name := string(surnames[i%len(surnames)]) + string(given[i%len(given)]) + string(given[(i/7)%len(given)])
		out[i] = certificates.Certificate{ID: int64(i + 1), Kind: certificates.KindTraining, Source: certificates.SourceIssued,
			Number: fmt.Sprintf("HBTY2026%08d", i+1), VerifyCode: code, HolderName: name,
			HolderIDMask: "420106********" + fmt.Sprintf("%04d", i), Occupation: catalog.OccupationNursery,
			PlanCode: "BYS-ZG", PlanName: "保育师在岗培训", Hours: &h, IssuerName: "武汉市托育职业技能培训中心",
			IssuedOn: issued, IssuedAt: issued, ExpiresOn: &exp, TemplateID: 1,
			VerifyURL: "https://tuoyu.example.gov.cn/verify/" + code}
	}
	return out, map[int64]certificates.Template{1: {ID: 1, Version: 1, Layout: "classic", Title: "湖北省托育从业人员培训管理平台",
		IssuerName: "湖北省托育从业人员培训管理平台", Signatory: "（电子证书，扫码核验）"}}
}

// peakRSS is the process's high-water mark of resident memory (VmHWM), in MB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func BenchmarkClassZIP1000(b *testing.B) {
	const n = 1000
	cs, tpls := classOf(n)
	r := certificates.NewRenderer(os.Getenv("TUOYU_CERT_FONT"))
	if _, err := r.Render(cs[0], tpls[1]); err != nil { // parse the font once, as a running server has
		b.Fatal(err)
	}
	var bytesOut int
	b.ResetTimer()
	for range b.N {
		zw := zip.NewWriter(io.Discard)
		bytesOut = 0
		for start := 0; start < n; start += 64 {
			end := min(start+64, n)
			pdfs, err := r.RenderBatch(cs[start:end], tpls, runtime.GOMAXPROCS(0))
			if err != nil {
				b.Fatal(err)
			}
			for i, pdf := range pdfs {
				f, err := zw.CreateHeader(&zip.FileHeader{Name: cs[start+i].Number + ".pdf", Method: zip.Store})
				if err != nil {
					b.Fatal(err)
				}
				f.Write(pdf)
				bytesOut += len(pdf)
			}
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	perZIP := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(n/perZIP, "pdfs/s")
	b.ReportMetric(float64(bytesOut)/n, "bytes/pdf")
	b.ReportMetric(peakRSS(), "peakRSS_MB")
}
