-- Visits by whole minutes waited, seen and in the practice in each span of days
-- (flow_minutes), for percentiles.sql; by provider when $by is 'provider'.
select
    s.period,
    case $by when 'provider' then h.provider_id else '' end as grp,
    h.measure,
    h.minutes as value,
    h.visits as count
from flow_minutes as h
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on h.day between s.first_day and s.last_day
where
    h.practice_id = $practice_id
    and (cast($provider as varchar) is null or h.provider_id = $provider)
    and (cast($location as varchar) is null or h.location_id = $location)
