-- Check-ins in the period by ISO weekday and practice-local hour (flow_check_ins), with the
-- days of each weekday that had any check-in counted, to average over.
with counted as (
    select c.day, c.hour, c.check_ins
    from flow_check_ins as c
    where
        c.practice_id = $practice_id
        and c.day between $start and $end
        and (cast($provider as varchar) is null or c.provider_id = $provider)
        and (cast($location as varchar) is null or c.location_id = $location)
),

open_days as (
    select cast(isodow(day) as integer) as weekday, cast(count(distinct day) as bigint) as days
    from counted
    group by cast(isodow(day) as integer)
)

select
    cast(isodow(c.day) as integer) as weekday,
    c.hour,
    cast(sum(c.check_ins) as bigint) as check_ins,
    o.days
from counted as c
inner join open_days as o on cast(isodow(c.day) as integer) = o.weekday
group by cast(isodow(c.day) as integer), c.hour, o.days
