package app

// Expectations shared by many rows.
const (
	public          = "*=ok"                                                // anyone, even anonymous
	loggedIn        = "*=ok anon=401"                                       // any logged-in caller
	adminOnly       = "*=403 anon=401 admin=ok"                             // administration
	regulators      = "*=403 regulator=ok anon=401"                         // the ban list: regulators (the demo ban is in their scope)
	keepersOfP1     = "*=403 anon=401 admin,provider1=ok provider2=404"     // a class of provider1 (武汉): its provider and admin; provider2 gets 404
	keepersOfP2     = "*=403 anon=401 admin,provider2=ok provider1=404"     // a class of provider2 (宜昌)
	registryKeepers = "*=403 regulator,admin=ok anon=401"                   // the institution registry in 武汉: regulators (province and city) and admin
	ofCollege1      = "*=403 anon=401 admin,college1,token=ok college2=404" // a roster of college1 (the token is college1's)
	ofCollege2      = "*=403 anon=401 admin,college2=ok college1,token=404" // a roster of college2
	workerOnly      = "*=403 anon=401 worker1=ok"                           // a worker's own pages
)

// accessMatrix is the decision, per route, of who may call it (issue 15).
// Read an expectation left to right: "*=403 anon=401 admin=ok" means
// everybody gets 403, except anonymous callers (401) and admin (allowed).
// Record routes have one row per record: inside and outside the caller's
// scope ({…_p1} belongs to provider1 / 武汉, {…_p2} to provider2 / 宜昌).
// Unsafe rows send bodies that fail validation, or target records already
// in a final state (a cancelled class, a cancelled enrolment) or made for
// the test, so running them changes nothing else relies on.
var accessMatrix = []accessRow{
	// Platform.
	{route: "GET /healthz", expect: public},
	{route: "GET /readyz", expect: public},
	{route: "GET /api/openapi.yaml", expect: public},

	// accounts
	{route: "POST /api/v1/session", expect: public, body: map[string]string{}},
	{route: "DELETE /api/v1/session", expect: public, fresh: true},
	{route: "GET /api/v1/session", expect: loggedIn},
	{route: "GET /api/v1/users", expect: adminOnly},
	{route: "POST /api/v1/users", expect: adminOnly, body: map[string]string{}},
	{route: "GET /api/v1/tokens", expect: adminOnly},
	{route: "POST /api/v1/tokens", expect: adminOnly, body: map[string]string{}},
	{route: "DELETE /api/v1/tokens/:id", path: "/api/v1/tokens/{new_token}", expect: adminOnly},
	{route: "GET /", expect: public},
	{route: "GET /login", expect: public},
	{route: "POST /login", expect: public, body: "username=matrix-{caller}&password="},
	{route: "POST /logout", expect: public, fresh: true},
	{route: "GET /account/password", expect: loggedIn},
	{route: "POST /account/password", expect: "*=ok anon=401 token=403", body: "current_password=x&new_password=weak&confirm_password=weak"},
	{route: "PUT /api/v1/session/password", expect: "*=ok anon=401 token=403", body: map[string]string{"current_password": "x", "new_password": "weak"}},
	{route: "GET /admin/users", expect: adminOnly},
	{route: "POST /admin/users", expect: adminOnly, body: "username="},
	{route: "POST /admin/users/:id/active", path: "/admin/users/{user_scratch}/active", expect: adminOnly, body: "active=false"},
	{route: "POST /admin/users/:id/password", path: "/admin/users/{user_scratch}/password", expect: adminOnly, body: "password=short"},
	{route: "GET /admin/tokens", expect: adminOnly},
	{route: "POST /admin/tokens", expect: adminOnly, body: "name="},
	{route: "POST /admin/tokens/:id/revoke", path: "/admin/tokens/{new_token}/revoke", expect: adminOnly},

	// orgs
	{route: "GET /api/v1/regions", expect: public},
	{route: "GET /api/v1/organisations", expect: adminOnly},
	{route: "POST /api/v1/organisations", expect: adminOnly, body: map[string]string{}},
	{route: "GET /api/v1/organisations/:id", path: "/api/v1/organisations/{org}", expect: adminOnly},
	{route: "PATCH /api/v1/organisations/:id", path: "/api/v1/organisations/{org}", expect: adminOnly, body: map[string]string{"name": ""}},
	{route: "GET /admin/orgs", expect: adminOnly},
	{route: "POST /admin/orgs", expect: adminOnly, body: "code="},
	{route: "GET /admin/orgs/:id", path: "/admin/orgs/{org}", expect: adminOnly},
	{route: "POST /admin/orgs/:id", path: "/admin/orgs/{org}", expect: adminOnly, body: "name="},

	// calendar
	{route: "GET /api/v1/calendar/:year", path: "/api/v1/calendar/2026", expect: public},
	{route: "PUT /api/v1/calendar/:year", path: "/api/v1/calendar/2026", expect: adminOnly, body: map[string]any{"days": []map[string]string{{"date": "bad"}}}},
	{route: "GET /api/v1/calendar/working-days", path: "/api/v1/calendar/working-days?from=2026-01-05&add=5", expect: public},
	{route: "GET /calendar", expect: public},
	{route: "GET /calendar/:year", path: "/calendar/2026", expect: public},
	{route: "POST /calendar/:year", path: "/calendar/2026", expect: adminOnly, body: "days=bad"},

	// notify
	{route: "GET /api/v1/notifications", expect: loggedIn},
	{route: "POST /api/v1/notifications/:id/read", path: "/api/v1/notifications/{notification_self}/read", expect: "*=404 anon=401 worker1=ok"},
	{route: "POST /api/v1/notifications/:id/read", path: "/api/v1/notifications/{notification_other}/read", expect: "*=404 anon=401"},
	{route: "GET /notifications", expect: loggedIn},
	{route: "POST /notifications/:id/read", path: "/notifications/{notification_self}/read", expect: "*=404 anon=401 worker1=ok"},

	// institutions
	{route: "GET /api/v1/institutions", expect: loggedIn},
	{route: "POST /api/v1/institutions", expect: registryKeepers, body: map[string]string{}},
	{route: "GET /api/v1/institutions/:id", path: "/api/v1/institutions/{institution_wh}", expect: loggedIn},
	{route: "GET /api/v1/institutions/:id", path: "/api/v1/institutions/{institution_yc}", expect: loggedIn},
	{route: "PATCH /api/v1/institutions/:id", path: "/api/v1/institutions/{institution_wh}", expect: registryKeepers, body: map[string]any{"places": -1}},
	{route: "PATCH /api/v1/institutions/:id", path: "/api/v1/institutions/{institution_yc}", expect: "*=403 anon=401 admin,regulator1=ok regulator2=404", body: map[string]any{"places": -1}},
	{route: "DELETE /api/v1/institutions/:id", path: "/api/v1/institutions/{new_institution_wh}", expect: registryKeepers},
	{route: "DELETE /api/v1/institutions/:id", path: "/api/v1/institutions/{new_institution_yc}", expect: "*=403 anon=401 admin,regulator1=ok regulator2=404"},
	{route: "GET /institutions", expect: loggedIn},
	{route: "POST /institutions", expect: registryKeepers, body: "uscc="},
	{route: "GET /institutions/:id", path: "/institutions/{institution_wh}", expect: loggedIn},
	{route: "GET /institutions/:id", path: "/institutions/{institution_yc}", expect: loggedIn},
	{route: "POST /institutions/:id", path: "/institutions/{institution_wh}", expect: registryKeepers, body: "places=-1"},
	{route: "POST /institutions/:id/delete", path: "/institutions/{new_institution_wh}/delete", expect: registryKeepers},

	// workers
	{route: "GET /api/v1/workers", expect: "*=ok anon=401 worker1=403"},
	{route: "POST /api/v1/workers", expect: "*=ok regulator,institution1,worker1=403 anon=401", body: map[string]string{}},
	{route: "GET /api/v1/workers/:id", path: "/api/v1/workers/{worker_self}", expect: "*=ok college,provider2,token=404 anon=401"},
	{route: "GET /api/v1/workers/:id", path: "/api/v1/workers/{worker_wh}", expect: "*=ok college,provider2,institution1,worker1,token=404 anon=401"},
	{route: "GET /api/v1/workers/:id", path: "/api/v1/workers/{worker_yc}", expect: "*=404 anon=401 admin,college2,regulator1=ok"},
	{route: "PATCH /api/v1/workers/:id", path: "/api/v1/workers/{worker_wh}", expect: "*=ok college,provider2,institution1,worker1,token=404 anon=401", body: map[string]string{"phone": "bad"}},
	{route: "PATCH /api/v1/workers/:id", path: "/api/v1/workers/{worker_yc}", expect: "*=404 anon=401 admin,college2,regulator1=ok", body: map[string]string{"phone": "bad"}},
	{route: "GET /api/v1/me/worker", expect: workerOnly},
	{route: "GET /workers", expect: "*=ok anon=401 worker1=403"},
	{route: "POST /workers", expect: "*=ok anon=401 worker1=403", body: "name="},
	{route: "GET /workers/:id", path: "/workers/{worker_wh}", expect: "*=ok college,provider2,institution1,worker1,token=404 anon=401"},
	{route: "GET /workers/:id", path: "/workers/{worker_yc}", expect: "*=404 anon=401 admin,college2,regulator1=ok"},
	{route: "GET /workers/:id/edit", path: "/workers/{worker_wh}/edit", expect: "*=ok college,provider2,institution1,worker1,token=404 anon=401"},
	{route: "POST /workers/:id/edit", path: "/workers/{worker_wh}/edit", expect: "*=ok college,provider2,institution1,worker1,token=404 anon=401", body: "phone=bad"},
	// The full ID number, for HR in scope only, audited (TestRevealsAreAudited).
	{route: "POST /workers/:id/reveal", path: "/workers/{worker_wh}/reveal", expect: "*=403 hr=ok anon=401", pii: true},
	{route: "POST /workers/:id/reveal", path: "/workers/{worker_yc}/reveal", expect: "*=403 hr=404 anon=401", pii: true},
	{route: "GET /me", expect: workerOnly},

	// bans
	{route: "GET /api/v1/bans/check", path: "/api/v1/bans/check?id_number=420106199001011234", expect: "*=403 provider,institution1=ok anon=401"},
	{route: "GET /api/v1/bans", expect: regulators},
	{route: "POST /api/v1/bans", expect: regulators, body: map[string]string{}},
	{route: "GET /api/v1/bans/:id", path: "/api/v1/bans/{ban}", expect: regulators},
	{route: "POST /api/v1/bans/:id/lift-request", path: "/api/v1/bans/{ban}/lift-request", expect: regulators, body: map[string]string{}},
	{route: "POST /api/v1/bans/:id/lift-confirm", path: "/api/v1/bans/{ban}/lift-confirm", expect: regulators, body: map[string]string{}},
	{route: "POST /api/v1/bans/:id/lift-reject", path: "/api/v1/bans/{ban}/lift-reject", expect: regulators, body: map[string]string{}},
	{route: "GET /bans/check", expect: "*=403 provider,institution1=ok anon=401"},
	{route: "POST /bans/check", expect: "*=403 provider,institution1=ok anon=401", body: "id_number=bad"},
	{route: "GET /bans", expect: regulators},
	{route: "POST /bans/search", expect: regulators, body: "q="},
	{route: "GET /bans/new", expect: regulators},
	{route: "POST /bans", expect: regulators, body: "name="},
	{route: "GET /bans/:id", path: "/bans/{ban}", expect: regulators},
	{route: "POST /bans/:id/lift-request", path: "/bans/{ban}/lift-request", expect: regulators, body: "document_ref="},
	{route: "POST /bans/:id/lift-confirm", path: "/bans/{ban}/lift-confirm", expect: regulators, body: "x="},
	{route: "POST /bans/:id/lift-reject", path: "/bans/{ban}/lift-reject", expect: regulators, body: "x="},

	// subsidies
	{route: "POST /api/v1/subsidies/calculate", expect: public, body: map[string]string{}},
	{route: "GET /subsidies/calculator", expect: public},
	{route: "POST /subsidies/calculator", expect: public, body: "as_of=bad"},
	{route: "GET /subsidies/parameters", expect: adminOnly},
	{route: "POST /subsidies/parameters", expect: adminOnly, body: "name="},

	// catalog
	{route: "GET /api/v1/courses", expect: loggedIn},
	{route: "PATCH /api/v1/courses/:id", path: "/api/v1/courses/{course}", expect: adminOnly, body: map[string]any{"title": ""}},
	{route: "GET /api/v1/plans", expect: loggedIn},
	{route: "GET /api/v1/plans/:code", path: "/api/v1/plans/BYS-GQ", expect: loggedIn},
	{route: "PUT /api/v1/plans/:code", path: "/api/v1/plans/BYS-GQ", expect: adminOnly, body: map[string]any{"min_hours": -1}},
	{route: "GET /catalog/courses", expect: loggedIn},
	{route: "GET /catalog/courses/:id", path: "/catalog/courses/{course}", expect: adminOnly},
	{route: "POST /catalog/courses/:id", path: "/catalog/courses/{course}", expect: adminOnly, body: "title="},
	{route: "GET /catalog/plans", expect: loggedIn},
	{route: "GET /catalog/plans/:code", path: "/catalog/plans/BYS-GQ", expect: loggedIn},
	{route: "POST /catalog/plans/:code", path: "/catalog/plans/BYS-GQ", expect: adminOnly, body: "name="},

	// classes, enrolment, attendance
	{route: "GET /api/v1/classes", expect: loggedIn},
	{route: "POST /api/v1/classes", expect: "*=403 provider=ok anon=401", body: map[string]string{}},
	{route: "GET /api/v1/classes/search", expect: loggedIn},
	{route: "GET /api/v1/classes/:id", path: "/api/v1/classes/{class_p1}", expect: "*=ok college,provider2,institution1,token=404 anon=401"},
	{route: "GET /api/v1/classes/:id", path: "/api/v1/classes/{class_p2}", expect: "*=404 anon=401 admin,provider2,regulator1,worker1=ok"},
	{route: "POST /api/v1/classes/:id/finish", path: "/api/v1/classes/{class_cancelled_p1}/finish", expect: keepersOfP1},
	{route: "POST /api/v1/classes/:id/finish", path: "/api/v1/classes/{class_cancelled_p2}/finish", expect: keepersOfP2},
	{route: "POST /api/v1/classes/:id/open", path: "/api/v1/classes/{class_cancelled_p1}/open", expect: keepersOfP1},
	{route: "POST /api/v1/classes/:id/open", path: "/api/v1/classes/{class_cancelled_p2}/open", expect: keepersOfP2},
	{route: "POST /api/v1/classes/:id/start", path: "/api/v1/classes/{class_cancelled_p1}/start", expect: keepersOfP1},
	{route: "POST /api/v1/classes/:id/start", path: "/api/v1/classes/{class_cancelled_p2}/start", expect: keepersOfP2},
	{route: "POST /api/v1/classes/:id/cancel", path: "/api/v1/classes/{class_cancelled_p1}/cancel", expect: keepersOfP1, body: map[string]string{"reason": "访问矩阵"}},
	{route: "POST /api/v1/classes/:id/cancel", path: "/api/v1/classes/{class_cancelled_p2}/cancel", expect: keepersOfP2, body: map[string]string{"reason": "访问矩阵"}},
	{route: "POST /api/v1/classes/:id/enrolments", path: "/api/v1/classes/{class_cancelled_p1}/enrolments", expect: "*=403 provider,worker1=ok anon=401", body: map[string]any{}},
	{route: "POST /api/v1/classes/:id/enrolments", path: "/api/v1/classes/{class_cancelled_p1}/enrolments", expect: "*=403 anon=401 provider1,worker1=ok provider2=404", body: rawJSON(`{"worker_id": {worker_wh}}`)},
	{route: "POST /api/v1/classes/:id/enrolments", path: "/api/v1/classes/{class_cancelled_p2}/enrolments", expect: "*=403 provider,worker1=ok anon=401", body: map[string]any{}},
	{route: "POST /api/v1/classes/:id/enrolments", path: "/api/v1/classes/{class_cancelled_p2}/enrolments", expect: "*=403 provider=404 anon=401 worker1=ok", body: rawJSON(`{"worker_id": {worker_wh}}`)},
	{route: "GET /api/v1/classes/:id/enrolments", path: "/api/v1/classes/{class_p1}/enrolments", expect: "*=ok college,provider2,institution1,token=404 anon=401"},
	{route: "GET /api/v1/classes/:id/enrolments", path: "/api/v1/classes/{class_p2}/enrolments", expect: "*=404 anon=401 admin,provider2,regulator1,worker1=ok"},
	{route: "POST /api/v1/classes/:id/attendance", path: "/api/v1/classes/{class_p1}/attendance", expect: keepersOfP1, body: map[string]string{}},
	{route: "POST /api/v1/classes/:id/attendance", path: "/api/v1/classes/{class_p2}/attendance", expect: keepersOfP2, body: map[string]string{}},
	{route: "POST /api/v1/classes/:id/attendance/import", path: "/api/v1/classes/{class_p1}/attendance/import", expect: keepersOfP1, body: upload{"file", "hours.csv", "报名编号,课程代码,学时\n1,X,1\n"}},
	{route: "POST /api/v1/classes/:id/attendance/import", path: "/api/v1/classes/{class_p2}/attendance/import", expect: keepersOfP2, body: upload{"file", "hours.csv", "报名编号,课程代码,学时\n1,X,1\n"}},
	{route: "GET /api/v1/enrolments", expect: workerOnly},
	{route: "GET /api/v1/enrolments/:id", path: "/api/v1/enrolments/{enrolment_self}", expect: "*=ok college,provider2,institution1,token=404 anon=401"},
	{route: "GET /api/v1/enrolments/:id", path: "/api/v1/enrolments/{enrolment_p1}", expect: "*=ok college,provider2,institution1,token=404 anon=401"},
	{route: "GET /api/v1/enrolments/:id", path: "/api/v1/enrolments/{enrolment_p2}", expect: "*=404 anon=401 admin,provider2,regulator1=ok"},
	{route: "POST /api/v1/enrolments/:id/withdraw", path: "/api/v1/enrolments/{enrolment_cancelled_p1}/withdraw", expect: "*=403 anon=401 provider1=ok provider2,worker1=404"},
	{route: "POST /api/v1/enrolments/:id/withdraw", path: "/api/v1/enrolments/{enrolment_cancelled_p2}/withdraw", expect: "*=403 anon=401 provider1,worker1=404 provider2=ok"},
	{route: "GET /api/v1/plan-waitlist", expect: "*=ok college,institution1,worker1,token=403 anon=401"},
	{route: "GET /classes", expect: "*=ok college,institution1,worker1,token=403 anon=401"},
	{route: "POST /classes", expect: "*=403 provider=ok anon=401", body: "name="},
	{route: "GET /classes/new", expect: "*=403 provider=ok anon=401"},
	{route: "GET /classes/search", expect: loggedIn},
	{route: "GET /classes/waitlist", expect: "*=ok college,institution1,worker1,token=403 anon=401"},
	{route: "GET /classes/:id", path: "/classes/{class_p1}", expect: "*=ok college,provider2,institution1,token=404 anon=401"},
	{route: "GET /classes/:id", path: "/classes/{class_p2}", expect: "*=404 anon=401 admin,provider2,regulator1,worker1=ok"},
	{route: "POST /classes/:id/state", path: "/classes/{class_cancelled_p1}/state", expect: keepersOfP1, body: "to=open"},
	{route: "POST /classes/:id/state", path: "/classes/{class_cancelled_p2}/state", expect: keepersOfP2, body: "to=open"},
	{route: "POST /classes/:id/enrolments", path: "/classes/{class_cancelled_p1}/enrolments", expect: "*=403 anon=401 provider1=ok provider2,worker1=404", body: "id_number="},
	{route: "POST /classes/:id/enrolments", path: "/classes/{class_cancelled_p2}/enrolments", expect: "*=403 anon=401 provider1,worker1=404 provider2=ok", body: "id_number="},
	{route: "GET /classes/:id/attendance", path: "/classes/{class_p1}/attendance", expect: keepersOfP1},
	{route: "GET /classes/:id/attendance", path: "/classes/{class_p2}/attendance", expect: keepersOfP2},
	{route: "POST /classes/:id/attendance", path: "/classes/{class_p1}/attendance", expect: keepersOfP1, body: "course_id="},
	{route: "POST /classes/:id/attendance", path: "/classes/{class_p2}/attendance", expect: keepersOfP2, body: "course_id="},
	{route: "POST /classes/:id/attendance/import", path: "/classes/{class_p1}/attendance/import", expect: keepersOfP1, body: upload{"file", "hours.csv", "报名编号,课程代码,学时\n1,X,1\n"}},
	{route: "POST /classes/:id/attendance/import", path: "/classes/{class_p2}/attendance/import", expect: keepersOfP2, body: upload{"file", "hours.csv", "报名编号,课程代码,学时\n1,X,1\n"}},
	{route: "GET /enrolments/:id", path: "/enrolments/{enrolment_p1}", expect: "*=ok college,provider2,institution1,token=404 anon=401"},
	{route: "GET /enrolments/:id", path: "/enrolments/{enrolment_p2}", expect: "*=404 anon=401 admin,provider2,regulator1=ok"},
	{route: "POST /enrolments/:id/withdraw", path: "/enrolments/{enrolment_cancelled_p1}/withdraw", expect: "*=403 anon=401 provider1=ok provider2,worker1=404"},
	{route: "POST /enrolments/:id/withdraw", path: "/enrolments/{enrolment_cancelled_p2}/withdraw", expect: "*=403 anon=401 provider1,worker1=404 provider2=ok"},
	{route: "GET /me/classes", expect: workerOnly},

	// rosters. errors.csv holds the invalid rows as the college sent them
	// (DESIGN §5.4), ID numbers in full so the college can find and fix
	// them: the download is audited (TestRevealsAreAudited) and not cached.
	{route: "GET /api/v1/rosters", expect: "*=403 college,admin,token=ok anon=401"},
	{route: "POST /api/v1/rosters", expect: "*=403 college,token=ok anon=401", body: upload{"file", "roster.txt", ""}},
	{route: "GET /api/v1/rosters/template.xlsx", expect: "*=403 college,admin,token=ok anon=401"},
	{route: "GET /api/v1/rosters/:id", path: "/api/v1/rosters/{roster_c1}", expect: ofCollege1},
	{route: "GET /api/v1/rosters/:id", path: "/api/v1/rosters/{roster_c2}", expect: ofCollege2},
	{route: "GET /api/v1/rosters/:id/rows", path: "/api/v1/rosters/{roster_c1}/rows", expect: ofCollege1},
	{route: "GET /api/v1/rosters/:id/rows", path: "/api/v1/rosters/{roster_c2}/rows", expect: ofCollege2},
	{route: "GET /api/v1/rosters/:id/errors.csv", path: "/api/v1/rosters/{roster_c1}/errors.csv", expect: ofCollege1, pii: true},
	{route: "GET /api/v1/rosters/:id/errors.csv", path: "/api/v1/rosters/{roster_c2}/errors.csv", expect: ofCollege2, pii: true},
	{route: "POST /api/v1/rosters/:id/commit", path: "/api/v1/rosters/{roster_c1}/commit", expect: "*=403 anon=401 college1,token=ok college2=404"},
	{route: "POST /api/v1/rosters/:id/commit", path: "/api/v1/rosters/{roster_c2}/commit", expect: "*=403 anon=401 college1,token=404 college2=ok"},
	{route: "GET /rosters", expect: "*=403 college,admin,token=ok anon=401"},
	{route: "POST /rosters", expect: "*=403 college,token=ok anon=401", body: upload{"file", "roster.txt", ""}},
	{route: "GET /rosters/new", expect: "*=403 college,token=ok anon=401"},
	{route: "GET /rosters/template.xlsx", expect: "*=403 college,admin,token=ok anon=401"},
	{route: "GET /rosters/:id", path: "/rosters/{roster_c1}", expect: ofCollege1},
	{route: "GET /rosters/:id", path: "/rosters/{roster_c2}", expect: ofCollege2},
	{route: "GET /rosters/:id/errors.csv", path: "/rosters/{roster_c1}/errors.csv", expect: ofCollege1, pii: true},
	{route: "POST /rosters/:id/commit", path: "/rosters/{roster_c1}/commit", expect: "*=403 anon=401 college1,token=ok college2=404"},
	{route: "POST /rosters/:id/commit", path: "/rosters/{roster_c2}/commit", expect: "*=403 anon=401 college1,token=404 college2=ok"},

	// audit and jobs
	{route: "GET /api/v1/audit-events", expect: adminOnly},
	{route: "GET /admin/audit", expect: adminOnly},
	{route: "POST /admin/audit/verify", expect: adminOnly},
	{route: "GET /api/v1/jobs", expect: adminOnly},
	{route: "POST /api/v1/jobs/:name/run", path: "/api/v1/jobs/ratelimit.purge/run", expect: adminOnly},
	{route: "GET /admin/jobs", expect: adminOnly},
	{route: "POST /admin/jobs/:name/run", path: "/admin/jobs/ratelimit.purge/run", expect: adminOnly},
}
