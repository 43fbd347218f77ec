-- Appointments by whole days booked ahead in each span of days (access_lead_time), for
-- percentiles.sql; by provider when $by is 'provider'.
select
    s.period,
    case $by when 'provider' then h.provider_id else '' end as grp,
    'lead_days' as measure,
    h.lead_days as value,
    h.appointments as count
from access_lead_time as h
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on h.day between s.first_day and s.last_day
where
    h.practice_id = $practice_id
    and (cast($provider as varchar) is null or h.provider_id = $provider)
    and (cast($location as varchar) is null or h.location_id = $location)
