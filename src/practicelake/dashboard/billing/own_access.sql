-- The practice's own access counts in each span (month) of days, summed from access_daily as
-- benchmark_access_monthly sums them: the practice's figure beside its peers'.
select
    s.period,
    '' as grp,
    cast(sum(d.scheduled_appointments) as bigint) as scheduled_appointments,
    cast(sum(d.kept_appointments) as bigint) as kept_appointments,
    cast(sum(d.no_shows) as bigint) as no_shows,
    cast(sum(d.late_cancellations) as bigint) as late_cancellations
from access_daily as d
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on d.day between s.first_day and s.last_day
where d.practice_id = $practice_id
group by 1, 2
