-- The A/R benchmark's published cells for the month ends asked (benchmark_ar_monthly).
select as_of_date, days_in_ar_p25, days_in_ar_p50, days_in_ar_p75, ar_over_90_share_p50
from benchmark_ar_monthly
where as_of_date between $first and $last
