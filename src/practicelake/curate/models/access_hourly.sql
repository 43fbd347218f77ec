-- Appointments by provider, location, practice-local day and hour of their scheduled start:
-- the front desk's day and week, and the weekday-by-hour picture of demand.
select
    a.practice_id,
    a.provider_id,
    a.location_id,
    a.day,
    -- NULL: the export gave the start's day only.
    a.start_hour as hour,
    cast(count(*) as bigint) as scheduled_appointments,
    cast(sum(case when a.is_kept then 1 else 0 end) as bigint) as kept_appointments,
    cast(sum(case when a.is_no_show then 1 else 0 end) as bigint) as no_shows,
    cast(sum(case when a.is_cancelled then 1 else 0 end) as bigint) as cancellations,
    cast(sum(case when a.is_late_cancellation then 1 else 0 end) as bigint) as late_cancellations,
    cast(count(a.checked_in_local) as bigint) as checked_in
from curated.stg_appointment as a
group by a.practice_id, a.provider_id, a.location_id, a.day, a.start_hour
