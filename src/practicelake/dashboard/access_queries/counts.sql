-- Appointments scheduled, kept, missed and cancelled in each span (period) of days, summed
-- from access_daily; by provider when $by is 'provider'.
select
    s.period,
    case $by when 'provider' then d.provider_id else '' end as grp,
    cast(sum(d.scheduled_appointments) as bigint) as scheduled_appointments,
    cast(sum(d.kept_appointments) as bigint) as kept_appointments,
    cast(sum(d.no_shows) as bigint) as no_shows,
    cast(sum(d.cancellations) as bigint) as cancellations,
    cast(sum(d.late_cancellations) as bigint) as late_cancellations,
    cast(sum(d.unresolved_appointments) as bigint) as unresolved_appointments
from access_daily as d
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on d.day between s.first_day and s.last_day
where
    d.practice_id = $practice_id
    and (cast($provider as varchar) is null or d.provider_id = $provider)
    and (cast($location as varchar) is null or d.location_id = $location)
group by s.period, case $by when 'provider' then d.provider_id else '' end
