package institutions

import (
	"context"
	"fmt"
	"time"

	"tuoyu/modules/orgs"
)

// demoInstitutions are the four institutions of the demo world, in 武汉,
// 宜昌 and 襄阳 (DESIGN §5.5). Their credit codes get their check character
// at seed time.
var demoInstitutions = []struct {
	usccStem, name, region, address string
	kind                            Kind
	places                          int
	filed                           string
}{
	{"52420106MJH00001", "武昌区阳光宝贝托育园", "420106", "武汉市武昌区中南路 88 号", KindNonProfit, 80, "2025-03-15"},
	{"91420102MA4K0002", "江岸区小橡树托育中心", "420102", "武汉市江岸区解放大道 1201 号", KindForProfit, 60, "2025-08-01"},
	{"12420502MB100003", "宜昌市西陵区公办托育园", "420502", "宜昌市西陵区夷陵大道 55 号", KindPublic, 120, "2024-11-20"},
	{"91420606MA4K0004", "樊城区贝乐托育之家", "420606", "襄阳市樊城区人民路 36 号", KindForProfit, 40, ""},
}

// SeedDemo adds the demo institutions; existing ones (by credit code) are
// left as they are.
func (s *Service) SeedDemo(ctx context.Context) error {
	for _, d := range demoInstitutions {
		// The stems are 16 characters; a fixed 17th keeps codes stable.
		first17 := d.usccStem + "X"
		n := Institution{USCC: first17 + string(orgs.USCCCheckChar(first17)), Name: d.name, Kind: d.kind,
			RegionCode: d.region, Address: d.address, Places: d.places, FilingStatus: FilingUnfiled}
		if d.filed != "" {
			t, _ := time.Parse(time.DateOnly, d.filed)
			n.FilingStatus, n.FiledOn = FilingFiled, &t
		}
		_, err := s.db.NewInsert().Model(&n).ExcludeColumn("id", "created_at", "updated_at").
			On("CONFLICT (uscc) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("seed institution %s: %w", d.name, err)
		}
	}
	// The demo institution login (organisation institution1) is the staff of
	// the first institution, so it sees the workers employed there.
	_, err := s.db.NewUpdate().Table("institutions").
		Set("organisation_id = (SELECT id FROM organisations WHERE code = 'institution1' AND kind = 'institution')").
		Where("name = ? AND organisation_id IS NULL", demoInstitutions[0].name).Exec(ctx)
	if err != nil {
		return fmt.Errorf("link the demo institution login: %w", err)
	}
	return nil
}
