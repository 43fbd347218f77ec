-- Check-ins by practice-local month, weekday and hour, for staffing the front desk.
with check_in as (
    select
        a.practice_id,
        cast(date_trunc('month', a.checked_in_local) as date) as month,
        cast(extract(isodow from a.checked_in_local) as integer) as weekday,
        cast(extract(hour from a.checked_in_local) as integer) as hour,
        cast(a.checked_in_local as date) as day
    from curated.stg_appointment as a
    where a.checked_in_local is not null
),

-- Days of each weekday in the month on which anyone checked in at all, to average over.
open_days as (
    select practice_id, month, weekday, cast(count(distinct day) as bigint) as days
    from check_in
    group by practice_id, month, weekday
)

select
    c.practice_id,
    c.month,
    c.weekday,
    c.hour,
    cast(count(*) as bigint) as check_ins,
    o.days,
    cast(count(*) as double) / o.days as check_ins_per_day
from check_in as c
inner join open_days as o
    on c.practice_id = o.practice_id and c.month = o.month and c.weekday = o.weekday
group by c.practice_id, c.month, c.weekday, c.hour, o.days
