-- Appointments by provider, location and practice-local day of their scheduled start.
with counted as (
    select
        a.practice_id,
        a.provider_id,
        a.location_id,
        a.day,
        cast(count(*) as bigint) as scheduled_appointments,
        cast(sum(case when a.is_kept then 1 else 0 end) as bigint) as kept_appointments,
        cast(sum(case when a.is_no_show then 1 else 0 end) as bigint) as no_shows,
        cast(sum(case when a.is_cancelled then 1 else 0 end) as bigint) as cancellations,
        cast(sum(case when a.is_late_cancellation then 1 else 0 end) as bigint) as late_cancellations,
        -- Unknown, not 0, when a kept appointment's type is not known.
        case
            when not bool_or(a.is_kept and a.is_new_patient is null)
                then cast(sum(case when a.is_kept and a.is_new_patient then 1 else 0 end) as bigint)
        end as new_patient_visits,
        -- The row's own percentiles; a period's come from access_lead_time.
        percentile_cont(0.5) within group (order by a.lead_days) as lead_time_p50_days,
        percentile_cont(0.9) within group (order by a.lead_days) as lead_time_p90_days
    from curated.stg_appointment as a
    group by a.practice_id, a.provider_id, a.location_id, a.day
)

select
    c.practice_id,
    c.provider_id,
    c.location_id,
    c.day,
    c.scheduled_appointments,
    c.kept_appointments,
    c.no_shows,
    c.cancellations,
    c.late_cancellations,
    -- Still booked or pending: not yet come, or never marked.
    c.scheduled_appointments - c.kept_appointments - c.no_shows - c.cancellations as unresolved_appointments,
    -- Late cancellations are not no-shows here; the next column counts them as such.
    cast(c.no_shows as double) / nullif(c.kept_appointments + c.no_shows, 0) as no_show_rate,
    cast(c.no_shows + c.late_cancellations as double)
    / nullif(c.kept_appointments + c.no_shows + c.late_cancellations, 0) as no_show_or_late_cancellation_rate,
    cast(c.late_cancellations as double) / nullif(c.scheduled_appointments, 0) as late_cancellation_rate,
    c.lead_time_p50_days,
    c.lead_time_p90_days,
    c.new_patient_visits,
    cast(c.new_patient_visits as double) / nullif(c.kept_appointments, 0) as new_patient_ratio
from counted as c
