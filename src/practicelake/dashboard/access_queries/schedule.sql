-- Schedule use in each span of days (access_schedule_daily): available and kept minutes,
-- available and booked slots, each summed over the rows with a schedule (a day without one has
-- no time to set its visits against); by provider when $by is 'provider'.
select
    s.period,
    case $by when 'provider' then d.provider_id else '' end as grp,
    cast(sum(d.available_minutes) as bigint) as available_minutes,
    cast(sum(case when d.available_minutes is not null then d.kept_minutes end) as bigint) as kept_minutes,
    cast(sum(d.available_slots) as bigint) as available_slots,
    cast(sum(case when d.available_slots is not null then d.booked_slots end) as bigint) as booked_slots
from access_schedule_daily as d
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on d.day between s.first_day and s.last_day
where
    d.practice_id = $practice_id
    and (cast($provider as varchar) is null or d.provider_id = $provider)
    and (cast($location as varchar) is null or d.location_id = $location)
group by s.period, case $by when 'provider' then d.provider_id else '' end
