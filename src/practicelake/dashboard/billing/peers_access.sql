-- The access benchmark's published cells for the months asked (benchmark_access_monthly:
-- no practice named, disclosure-controlled).
select month, kept_visits, no_show_rate_p25, no_show_rate_p50, no_show_rate_p75, late_cancellation_rate_p50
from benchmark_access_monthly
where month between $first and $last
