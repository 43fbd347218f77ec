-- Kept visits, scheduled days, work RVUs, charges and collections in each span (period) of
-- days, summed from productivity_provider_day; by provider when $by is 'provider'. Work RVUs
-- are rounded to the reference's 4 decimals, which makes the sum of the days exact.
select
    s.period,
    case $by when 'provider' then d.provider_id else '' end as grp,
    cast(sum(d.kept_visits) as bigint) as kept_visits,
    cast(sum(d.scheduled_days) as bigint) as scheduled_days,
    round(sum(d.work_rvus), 4) as work_rvus,
    cast(sum(d.lines_without_value_units) as bigint) as lines_without_value_units,
    max(d.fte) as fte,
    sum(d.charges) as charges,
    sum(d.collections) as collections
from productivity_provider_day as d
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on d.day between s.first_day and s.last_day
where
    d.practice_id = $practice_id
    and (cast($provider as varchar) is null or d.provider_id = $provider)
group by 1, 2
