-- One row per appointment, with its practice-local times. Appointments entered in error are
-- dropped here, and so from every model that reads this one; so are waitlist entries, which
-- were never given a slot.
with parameters as (
    -- A cancellation made less than this many hours before the start is late (common practice: 24 h).
    select 24 as late_cancel_hours
),

appointment as (
    select
        a.practice_id,
        a.appointment_id,
        a.patient_key,
        a.provider_id,
        a.location_id,
        a.status,
        a.appointment_type,
        a.duration_minutes,
        a.start_at,
        a.start_time_known,
        a.cancelled_at,
        a.checked_in_at,
        a.visit_start_at,
        a.visit_end_at,
        a.booked_at at time zone 'UTC' at time zone pr.time_zone as booked_local,
        a.start_at at time zone 'UTC' at time zone pr.time_zone as start_local,
        a.cancelled_at at time zone 'UTC' at time zone pr.time_zone as cancelled_local,
        a.checked_in_at at time zone 'UTC' at time zone pr.time_zone as checked_in_local
    from cleaned.appointment as a
    -- The zone of the settings, the one the transform read the export's times in.
    inner join reference.practice_settings as pr on a.practice_id = pr.practice_id
    where a.status not in ('entered-in-error', 'waitlist')
),

-- A provider's slot length on a day: the shortest of the day's sessions, at any location.
slot_length as (
    select practice_id, provider_id, day, min(slot_minutes) as slot_minutes
    from curated.access_capacity
    group by practice_id, provider_id, day
)

select
    a.practice_id,
    a.appointment_id,
    a.patient_key,
    a.provider_id,
    a.location_id,
    a.status,
    cast(a.start_local as date) as day,
    -- Hour of the scheduled start; NULL when the export gave its day only.
    case when a.start_time_known then cast(extract(hour from a.start_local) as integer) end as start_hour,
    a.booked_local,
    a.start_local,
    a.cancelled_local,
    a.checked_in_local,
    a.duration_minutes,
    -- The patient came: FHIR arrived, checked-in and fulfilled.
    a.status in ('arrived', 'checked-in', 'fulfilled') as is_kept,
    a.status = 'noshow' as is_no_show,
    a.status = 'cancelled' as is_cancelled,
    -- Compared as UTC instants, so a daylight-saving change does not move the window. A
    -- cancellation with no time recorded cannot be shown to be late and counts as early. A
    -- start known by its day only: a cancellation on that day or later is late.
    coalesce(
        a.status = 'cancelled' and case
            when a.start_time_known then a.cancelled_at > a.start_at - interval '1' hour * p.late_cancel_hours
            else cast(a.cancelled_local as date) >= cast(a.start_local as date)
        end,
        false
    ) as is_late_cancellation,
    a.start_time_known as start_time_known,
    -- The practice's own new-patient flag (often tied to the new-patient visit codes); NULL
    -- when the export does not say.
    case a.appointment_type when 'new' then true when 'follow-up' then false end as is_new_patient,
    date_diff('day', cast(a.booked_local as date), cast(a.start_local as date)) as lead_days,
    -- Slots the appointment takes in its provider's schedule that day; NULL without one.
    cast(ceil(a.duration_minutes / c.slot_minutes) as bigint) as slots,
    -- Durations from UTC instants, so they are right across a daylight-saving change; in whole
    -- minutes (the seconds of the last minute dropped), so that a period's percentiles follow
    -- exactly from counts of visits by minute (flow_minutes).
    cast(floor(date_diff('second', a.checked_in_at, a.visit_start_at) / 60) as bigint) as wait_minutes,
    cast(floor(date_diff('second', a.visit_start_at, a.visit_end_at) / 60) as bigint) as visit_minutes,
    cast(floor(date_diff('second', a.checked_in_at, a.visit_end_at) / 60) as bigint) as cycle_minutes
from appointment as a
cross join parameters as p
left join slot_length as c
    on
        a.practice_id = c.practice_id
        and a.provider_id = c.provider_id
        and cast(a.start_local as date) = c.day
