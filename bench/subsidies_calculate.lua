-- wrk script: POST one situation (one certificate) to the calculate endpoint
-- and count answers that are not 200, so a rate limit or an error cannot
-- pass for throughput.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"as_of":"2025-06-30","region":"420100",
 "person":{"employment":"enterprise_employee","insured_months":14,"groups":["graduate_of_year"],"banned":false},
 "certificates":[{"id":"c1","kind":"skill_level","occupation":"4-10-01-03","level":4,"issued_on":"2025-03-01","first_evaluation":true}],
 "paid":[{"subsidy":"skill_upgrade","certificate_id":"c0","occupation":"4-10-01-03","level":5,"paid_on":"2024-05-01"}]}]]

local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-200 answers: %d\n", bad))
end
