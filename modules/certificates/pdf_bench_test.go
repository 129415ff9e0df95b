package certificates

import (
	"testing"
	"time"

	"tuoyu/modules/catalog"
)

func sampleCertificate(name string) (Certificate, Template) {
	lvl := 5
	h := catalog.H(120)
	issued := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	return Certificate{
			Kind: KindSkill, Source: SourceIssued, Number: "S00004201000126500001" + "7", VerifyCode: "7K3M-9QX2-ABCD-EFGH-JKMN",
			HolderName: name, HolderIDMask: "420106********1234", Occupation: catalog.OccupationNursery, Level: &lvl,
			PlanCode: "BYS-5", PlanName: "保育师五级", Hours: &h, IssuerName: "武汉市托育职业技能培训中心",
			IssuedOn: issued, IssuedAt: issued, VerifyURL: "http://localhost:8080/verify/7K3M-9QX2-ABCD-EFGH-JKMN",
		}, Template{Version: 1, Layout: "classic", Title: "湖北省托育从业人员培训管理平台",
			IssuerName: "湖北省托育从业人员培训管理平台", Signatory: "（电子签章）"}
}

func BenchmarkRender(b *testing.B) {
	r := NewRenderer("")
	c, t := sampleCertificate("张𠮷")
	out, err := r.Render(c, t)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(out)), "bytes/pdf")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Render(c, t); err != nil {
				b.Error(err)
			}
		}
	})
}
