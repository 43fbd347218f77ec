-- IHI third next available appointment, measured at the start of each of a provider's schedule
-- days: calendar days from that day to the day holding the third slot still open then.
--
-- The schedule is rebuilt as it stood at the start of the day (from booked_at and
-- cancelled_at): a slot is open when the day's bookable slots (held slots excluded) are not all
-- taken by appointments booked before that day and not cancelled before it. Which slot an
-- appointment sits in is not known, only how many it takes.
with parameters as (
    select
        3 as nth_open_slot,
        -- Further ahead than this, the third open slot is not looked for (NULL).
        90 as horizon_days
),

-- An appointment takes its slots from the day after its booking until the day after its
-- cancellation; cancellations without a time give the slots back the day after booking. One
-- whose booking time is not known cannot be placed in the timeline and takes none.
holding as (
    select
        a.practice_id,
        a.provider_id,
        a.day,
        a.slots,
        cast(a.booked_local as date) + 1 as taken_from,
        case
            when a.is_cancelled then coalesce(cast(a.cancelled_local as date), cast(a.booked_local as date)) + 1
        end as taken_until
    from curated.stg_appointment as a
    where a.slots is not null and a.booked_local is not null
),

-- A provider's bookable slots on a schedule day, at all of the day's locations: the measure
-- is the provider's, wherever the open slot is.
schedule_day as (
    select practice_id, provider_id, day, sum(slots - held_slots) as bookable_slots
    from curated.access_capacity
    group by practice_id, provider_id, day
),

-- For every measuring day, each schedule day from it to the horizon.
measured as (
    select
        m.practice_id,
        m.provider_id,
        m.day as as_of,
        t.day,
        t.bookable_slots
    from schedule_day as m
    cross join parameters as p
    inner join schedule_day as t
        on
            m.practice_id = t.practice_id
            and m.provider_id = t.provider_id
            and t.day >= m.day
            and t.day <= m.day + p.horizon_days
),

-- Slot changes and measurements in one timeline per schedule day; the changes of a day come
-- before its measurement.
timeline as (
    select practice_id, provider_id, day, taken_from as as_of, 0 as is_measured, slots as change, 0 as bookable_slots
    from holding
    union all
    select practice_id, provider_id, day, taken_until, 0, -slots, 0
    from holding
    where taken_until is not null
    union all
    select practice_id, provider_id, day, as_of, 1, 0, bookable_slots
    from measured
),

taken as (
    select
        practice_id,
        provider_id,
        day,
        as_of,
        is_measured,
        bookable_slots,
        sum(change) over (
            partition by practice_id, provider_id, day
            order by as_of, is_measured
            rows between unbounded preceding and current row
        ) as taken_slots
    from timeline
),

open_slots as (
    select
        practice_id,
        provider_id,
        as_of,
        day,
        sum(greatest(bookable_slots - taken_slots, 0)) over (
            partition by practice_id, provider_id, as_of
            order by day
            rows between unbounded preceding and current row
        ) as open_by_then
    from taken
    where is_measured = 1
)

select
    o.practice_id,
    o.provider_id,
    o.as_of as day,
    min(case when o.open_by_then >= p.nth_open_slot then date_diff('day', o.as_of, o.day) end)
        as third_next_available_days
from open_slots as o
cross join parameters as p
group by o.practice_id, o.provider_id, o.as_of
