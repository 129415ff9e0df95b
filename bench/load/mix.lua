-- wrk script of bench/load.sh: a weighted mix of reads and writes for each
-- role. LOAD_DATA names a Lua file the script generated from the database
-- (logins with their cookie and CSRF token, ids in each role's scope, free
-- enrolment pairs and lesson slots, certificate codes); the proxy behind
-- wrk records every answer per endpoint, so this script only asks.
local data = dofile(os.getenv("LOAD_DATA"))
local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("tid", counter)
	table.insert(threads, thread)
end

-- Each thread walks its own share of the one-shot writes (enrolment pairs,
-- lesson slots), so two threads never send the same one.
local steps = {}
local function share(list)
	local n = #list
	if n == 0 then return nil end
	local step = (steps[list] or 0) + 1
	steps[list] = step
	return list[((tid - 1) + (step - 1) * data.threads) % n + 1]
end

local function pick(list) return list[math.random(#list)] end

local function as(role, method, path, body)
	local s = data.sessions[role]
	local headers = { ["Cookie"] = s.cookie }
	if method ~= "GET" then
		headers["X-CSRF-Token"] = s.csrf
		headers["Content-Type"] = "application/json"
	end
	return wrk.format(method, path, headers, body)
end

local actions = {
	{ w = 8, f = function() return as("hr_reviewer1", "GET", "/api/v1/workers?per_page=20") end },
	{ w = 4, f = function() return as("admin", "GET", "/api/v1/workers?per_page=20") end },
	{ w = 4, f = function() return as("provider1", "GET", "/api/v1/workers?per_page=20") end },
	{ w = 4, f = function() return as("college1", "GET", "/api/v1/workers?per_page=20") end },
	{ w = 3, f = function() return as("institution1", "GET", "/api/v1/workers?per_page=20") end },
	{ w = 4, f = function() return as("hr_reviewer1", "GET", "/api/v1/workers?per_page=20&q=" .. pick(data.names)) end },
	{ w = 12, f = function() return as("hr_reviewer1", "GET", "/api/v1/workers/" .. pick(data.hr_workers)) end },
	{ w = 4, f = function() return as("worker1", "GET", "/api/v1/me/worker") end },
	{ w = 4, f = function() return as("provider1", "GET", "/api/v1/classes?per_page=20") end },
	{ w = 4, f = function() return as("hr_reviewer1", "GET", "/api/v1/claims?per_page=20") end },
	-- The writes go to provider1's few demo classes (the one login of a
	-- provider), each locked per write: kept rarer than a province would
	-- send them to one class, so they measure the path, not one hot row.
	{ w = 3, f = function()
		local p = share(data.enrol)
		if not p then return as("provider1", "GET", "/api/v1/classes?per_page=20") end
		return as("provider1", "POST", "/api/v1/classes/" .. p[1] .. "/enrolments", '{"worker_id":' .. p[2] .. '}')
	end },
	{ w = 1, f = function()
		local l = share(data.lessons)
		if not l then return as("provider1", "GET", "/api/v1/classes?per_page=20") end
		return as("provider1", "POST", "/api/v1/classes/" .. l[1] .. "/lessons",
			'{"date":"' .. l[3] .. '","course_code":"' .. l[2] .. '","hours":0.5,"present":[' .. l[4] .. ']}')
	end },
	{ w = 10, f = function()
		return wrk.format("POST", "/api/v1/subsidies/calculate", { ["Content-Type"] = "application/json" }, data.situation)
	end },
	{ w = 10, f = function() return wrk.format("GET", "/api/v1/verify/" .. pick(data.codes)) end },
	{ w = 4, f = function()
		if #data.claims == 0 then return as("hr_reviewer1", "GET", "/api/v1/claims?per_page=20") end
		local c = pick(data.claims)
		return as(c[1], "POST", "/api/v1/claims", '{"certificate_id":' .. c[2] .. ',"subsidy":"' .. c[3] .. '"}')
	end },
}

local total = 0
for _, a in ipairs(actions) do total = total + a.w end

function init(args)
	math.randomseed(os.time() + tid * 7919)
end

function request()
	local r = math.random(total)
	for _, a in ipairs(actions) do
		r = r - a.w
		if r <= 0 then return a.f() end
	end
	return actions[1].f()
end
