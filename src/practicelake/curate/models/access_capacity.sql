-- A provider's bookable capacity at one location on one practice-local day, over all of the
-- day's sessions there.
select
    s.practice_id,
    s.provider_id,
    s.location_id,
    s.schedule_date as day,
    cast(count(*) as bigint) as sessions,
    cast(sum(date_diff('minute', s.start_time, s.end_time)) as bigint) as session_minutes,
    -- The day's slot length turns an appointment's minutes into slots.
    min(s.slot_minutes) as slot_minutes,
    cast(sum(floor(date_diff('minute', s.start_time, s.end_time) / s.slot_minutes)) as bigint) as slots,
    -- A session cannot hold back more slots than it has.
    cast(
        sum(least(coalesce(s.held_slots, 0), floor(date_diff('minute', s.start_time, s.end_time) / s.slot_minutes)))
        as bigint
    ) as held_slots
from cleaned.provider_schedule as s
group by s.practice_id, s.provider_id, s.location_id, s.schedule_date
