-- Third next available in each span of days (access_third_next): the sum and count of the
-- measurements that found a third open slot, and the schedule days measured; by provider when
-- $by is 'provider'. A provider's measure, over all their locations: no location filter.
select
    s.period,
    case $by when 'provider' then t.provider_id else '' end as grp,
    cast(sum(t.third_next_available_days) as bigint) as total_days,
    cast(count(t.third_next_available_days) as bigint) as measured_days,
    cast(count(*) as bigint) as schedule_days
from access_third_next as t
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on t.day between s.first_day and s.last_day
where
    t.practice_id = $practice_id
    and (cast($provider as varchar) is null or t.provider_id = $provider)
group by s.period, case $by when 'provider' then t.provider_id else '' end
