-- The revenue benchmark's published cells for the months asked (benchmark_revenue_monthly).
select
    month,
    claims_adjudicated,
    net_collection_rate_p25,
    net_collection_rate_p50,
    net_collection_rate_p75,
    initial_denial_rate_p50
from benchmark_revenue_monthly
where month between $first and $last
