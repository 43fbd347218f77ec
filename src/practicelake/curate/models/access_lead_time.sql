-- How far ahead appointments were booked: a histogram of whole days, by provider, location and
-- practice-local day of the scheduled start. Counts add up over any days, providers and
-- locations, and the percentiles of a period follow from them exactly (the read path's
-- percentile over a histogram equals percentile_cont over the appointments' lead days).
select
    a.practice_id,
    a.provider_id,
    a.location_id,
    a.day,
    a.lead_days,
    cast(count(*) as bigint) as appointments
from curated.stg_appointment as a
where a.lead_days is not null
group by a.practice_id, a.provider_id, a.location_id, a.day, a.lead_days
