package seed

import (
	"context"
	"fmt"

	"tuoyu/modules/accounts"
	"tuoyu/modules/orgs"
)

// demoOrgs are the organisations of the demo world.
var demoOrgs = []orgs.Input{
	{Code: "platform", Name: "湖北省托育从业人员培训管理平台", Kind: orgs.KindAdmin, RegionCode: "420000"},
	{Code: "hr-hubei", Name: "湖北省人力资源和社会保障厅", Kind: orgs.KindHRBureau, RegionCode: "420000"},
	{Code: "hr-wuhan", Name: "武汉市人力资源和社会保障局", Kind: orgs.KindHRBureau, RegionCode: "420100"},
	{Code: "hr-yichang", Name: "宜昌市人力资源和社会保障局", Kind: orgs.KindHRBureau, RegionCode: "420500"},
	{Code: "hr-xiangyang", Name: "襄阳市人力资源和社会保障局", Kind: orgs.KindHRBureau, RegionCode: "420600"},
	{Code: "wjw-hubei", Name: "湖北省卫生健康委员会", Kind: orgs.KindRegulator, RegionCode: "420000"},
	{Code: "wjw-wuhan", Name: "武汉市卫生健康委员会", Kind: orgs.KindRegulator, RegionCode: "420100"},
	{Code: "college1", Name: "武汉城市职业学院", Kind: orgs.KindCollege, RegionCode: "420100"},
	{Code: "college2", Name: "三峡旅游职业技术学院", Kind: orgs.KindCollege, RegionCode: "420500"},
	{Code: "provider1", Name: "武汉市托育职业技能培训中心", Kind: orgs.KindProvider, RegionCode: "420100", SiteCode: "010001"},
	{Code: "provider2", Name: "宜昌市保育师职业技能评价站", Kind: orgs.KindProvider, RegionCode: "420500", SiteCode: "050001"},
	{Code: "institution1", Name: "武昌区阳光宝贝托育园", Kind: orgs.KindInstitution, RegionCode: "420106"},
}

// demoUsers are the demo logins; the worker login is made with the demo
// workers (Workers), since it is linked to one of them.
var demoUsers = []accounts.NewUser{
	{Username: "admin", DisplayName: "平台管理员", Role: accounts.RoleAdmin, OrgCode: "platform"},
	{Username: "college1", DisplayName: "武汉城市职业学院教务处", Role: accounts.RoleCollege, OrgCode: "college1"},
	{Username: "college2", DisplayName: "三峡旅游职业技术学院教务处", Role: accounts.RoleCollege, OrgCode: "college2"},
	{Username: "provider1", DisplayName: "武汉托育培训中心", Role: accounts.RoleProvider, OrgCode: "provider1"},
	{Username: "provider2", DisplayName: "宜昌保育师评价站", Role: accounts.RoleProvider, OrgCode: "provider2"},
	{Username: "hr_reviewer1", DisplayName: "王审核", Role: accounts.RoleHRReviewer, OrgCode: "hr-wuhan"},
	{Username: "hr_approver1", DisplayName: "李审批", Role: accounts.RoleHRApprover, OrgCode: "hr-wuhan"},
	{Username: "hr_approver2", DisplayName: "赵审批", Role: accounts.RoleHRApprover, OrgCode: "hr-wuhan"},
	{Username: "regulator1", DisplayName: "陈监管", Role: accounts.RoleRegulator, OrgCode: "wjw-hubei"},
	{Username: "regulator2", DisplayName: "周监管", Role: accounts.RoleRegulator, OrgCode: "wjw-wuhan"},
	{Username: "institution1", DisplayName: "阳光宝贝园长", Role: accounts.RoleInstitution, OrgCode: "institution1"},
}

// Platform adds the demo organisations and logins; existing ones are left
// as they are. Errors: those of orgs.Service.Create and accounts.Service.CreateUser.
func Platform(ctx context.Context, s Services) error {
	for _, in := range demoOrgs {
		if _, err := s.Orgs.Ensure(ctx, in); err != nil {
			return fmt.Errorf("seed organisation %s: %w", in.Code, err)
		}
	}
	for _, u := range demoUsers {
		u.Password, u.Demo = DemoPassword, true
		if ok, err := s.userExists(ctx, u.Username); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		if _, err := s.Accounts.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("seed user %s: %w", u.Username, err)
		}
	}
	return nil
}
