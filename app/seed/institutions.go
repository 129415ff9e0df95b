package seed

import (
	"context"
	"fmt"

	"tuoyu/modules/apperr"
	"tuoyu/modules/institutions"
	"tuoyu/modules/orgs"
)

// demoInstitutions are the four institutions of the demo world, in 武汉,
// 宜昌 and 襄阳 (DESIGN §5.5). Their credit codes get their check character
// at seed time.
var demoInstitutions = []struct {
	usccStem, name, region, address string
	kind                            institutions.Kind
	places                          int
	filed                           string
}{
	{"52420106MJH00001", "武昌区阳光宝贝托育园", "420106", "武汉市武昌区中南路 88 号", institutions.KindNonProfit, 80, "2025-03-15"},
	{"91420102MA4K0002", "江岸区小橡树托育中心", "420102", "武汉市江岸区解放大道 1201 号", institutions.KindForProfit, 60, "2025-08-01"},
	{"12420502MB100003", "宜昌市西陵区公办托育园", "420502", "宜昌市西陵区夷陵大道 55 号", institutions.KindPublic, 120, "2024-11-20"},
	{"91420606MA4K0004", "樊城区贝乐托育之家", "420606", "襄阳市樊城区人民路 36 号", institutions.KindForProfit, 40, ""},
}

// Institutions registers the demo institutions as regulator1 does, the
// first linked to the institution1 login (its staff then see the workers
// employed there). Institutions already registered (by credit code) are
// left as they are.
// Errors: those of institutions.Service.Create but Conflict uscc_taken (an
// institution already registered); NotFound organisation_not_found without
// the institution1 organisation.
func Institutions(ctx context.Context, s Services) error {
	reg, err := s.principal(ctx, "regulator1")
	if err != nil {
		return err
	}
	staff, err := s.Orgs.ByCode(ctx, "institution1")
	if err != nil {
		return fmt.Errorf("demo institution login: %w", err)
	}
	for i, d := range demoInstitutions {
		// The stems are 16 characters; a fixed 17th keeps codes stable.
		first17 := d.usccStem + "X"
		in := institutions.Input{USCC: first17 + string(orgs.USCCCheckChar(first17)), Name: d.name, Kind: string(d.kind),
			RegionCode: d.region, Address: d.address, Places: d.places, FilingStatus: string(institutions.FilingUnfiled)}
		if d.filed != "" {
			in.FilingStatus, in.FiledOn = string(institutions.FilingFiled), d.filed
		}
		if i == 0 {
			in.OrganisationID = staff.ID
		}
		if _, err := s.Institutions.Create(ctx, reg, in); err != nil && !apperr.Is(err, "uscc_taken") {
			return fmt.Errorf("seed institution %s: %w", d.name, err)
		}
	}
	return nil
}
