-- Wait, visit and cycle times as counts of visits by whole minute, by provider, location and
-- practice-local day of the appointment. Counts add up over any days, providers and
-- locations, and a period's percentiles follow from them exactly.
with timed as (
    select a.practice_id, a.provider_id, a.location_id, a.day, 'wait' as measure, a.wait_minutes as minutes
    from curated.stg_appointment as a
    where a.wait_minutes is not null
    union all
    select a.practice_id, a.provider_id, a.location_id, a.day, 'visit', a.visit_minutes
    from curated.stg_appointment as a
    where a.visit_minutes is not null
    union all
    select a.practice_id, a.provider_id, a.location_id, a.day, 'cycle', a.cycle_minutes
    from curated.stg_appointment as a
    where a.cycle_minutes is not null
)

select
    practice_id,
    provider_id,
    location_id,
    day,
    measure,
    minutes,
    cast(count(*) as bigint) as visits
from timed
group by practice_id, provider_id, location_id, day, measure, minutes
