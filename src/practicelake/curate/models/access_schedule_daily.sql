-- Each provider's schedule at a location on a practice-local day against the appointments
-- booked into it there. A day with appointments at a location but no schedule there has a row
-- too, with no capacity (NULL rates). Locations are matched NULL to NULL: a schedule and an
-- appointment that name none are at the same (unnamed) place.
with booked as (
    select
        a.practice_id,
        a.provider_id,
        a.location_id,
        a.day,
        -- Slots taken by appointments still standing on the day, no-shows included.
        cast(sum(case when a.is_cancelled then 0 else a.slots end) as bigint) as booked_slots,
        cast(sum(case when a.is_kept then a.duration_minutes else 0 end) as bigint) as kept_minutes
    from curated.stg_appointment as a
    group by a.practice_id, a.provider_id, a.location_id, a.day
),

provider_day as (
    select practice_id, provider_id, location_id, day from curated.access_capacity
    union
    select practice_id, provider_id, location_id, day from booked
)

select
    d.practice_id,
    d.provider_id,
    d.location_id,
    d.day,
    coalesce(c.sessions, 0) as sessions,
    c.session_minutes as available_minutes,
    coalesce(b.kept_minutes, 0) as kept_minutes,
    cast(coalesce(b.kept_minutes, 0) as double) / c.session_minutes as schedule_utilisation,
    c.slots - c.held_slots as available_slots,
    c.held_slots,
    case when c.day is not null then coalesce(b.booked_slots, 0) end as booked_slots,
    cast(coalesce(b.booked_slots, 0) as double) / nullif(c.slots - c.held_slots, 0) as fill_rate,
    -- The provider's, measured over all their locations: the same on each of the day's rows.
    case when c.day is not null then t.third_next_available_days end as third_next_available_days
from provider_day as d
left join curated.access_capacity as c
    on
        d.practice_id = c.practice_id
        and d.provider_id = c.provider_id
        and d.location_id is not distinct from c.location_id
        and d.day = c.day
left join booked as b
    on
        d.practice_id = b.practice_id
        and d.provider_id = b.provider_id
        and d.location_id is not distinct from b.location_id
        and d.day = b.day
left join curated.access_third_next as t
    on d.practice_id = t.practice_id and d.provider_id = t.provider_id and d.day = t.day
