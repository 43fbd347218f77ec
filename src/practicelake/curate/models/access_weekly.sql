-- The daily access figures over ISO weeks (Monday to Sunday, practice-local). Rates and
-- percentiles are computed again from the week's counts and appointments, not averaged.
with appointment_week as (
    select
        d.practice_id,
        d.provider_id,
        cast(date_trunc('week', d.day) as date) as week_start,
        cast(sum(d.scheduled_appointments) as bigint) as scheduled_appointments,
        cast(sum(d.kept_appointments) as bigint) as kept_appointments,
        cast(sum(d.no_shows) as bigint) as no_shows,
        cast(sum(d.cancellations) as bigint) as cancellations,
        cast(sum(d.late_cancellations) as bigint) as late_cancellations,
        -- Unknown when any day's is unknown.
        case when not bool_or(d.new_patient_visits is null) then cast(sum(d.new_patient_visits) as bigint) end
            as new_patient_visits
    from curated.access_daily as d
    group by d.practice_id, d.provider_id, cast(date_trunc('week', d.day) as date)
),

lead_time as (
    select
        a.practice_id,
        a.provider_id,
        cast(date_trunc('week', a.day) as date) as week_start,
        percentile_cont(0.5) within group (order by a.lead_days) as lead_time_p50_days,
        percentile_cont(0.9) within group (order by a.lead_days) as lead_time_p90_days
    from curated.stg_appointment as a
    group by a.practice_id, a.provider_id, cast(date_trunc('week', a.day) as date)
),

-- The week's third next available is the one measured at the start of its first schedule day.
first_measure as (
    select
        t.practice_id,
        t.provider_id,
        cast(date_trunc('week', t.day) as date) as week_start,
        t.third_next_available_days,
        row_number() over (
            partition by t.practice_id, t.provider_id, cast(date_trunc('week', t.day) as date)
            order by t.day
        ) as schedule_day_number
    from curated.access_third_next as t
),

schedule_week as (
    select
        s.practice_id,
        s.provider_id,
        cast(date_trunc('week', s.day) as date) as week_start,
        -- A day counts once, however many locations the provider worked at.
        cast(count(distinct case when s.sessions > 0 then s.day end) as bigint) as schedule_days,
        cast(sum(s.available_minutes) as bigint) as available_minutes,
        -- Kept minutes where there was no schedule have no available time to be set against.
        cast(sum(case when s.sessions > 0 then s.kept_minutes else 0 end) as bigint) as kept_minutes,
        cast(sum(s.available_slots) as bigint) as available_slots,
        cast(sum(s.booked_slots) as bigint) as booked_slots
    from curated.access_schedule_daily as s
    group by s.practice_id, s.provider_id, cast(date_trunc('week', s.day) as date)
)

select
    s.practice_id,
    s.provider_id,
    s.week_start,
    coalesce(a.scheduled_appointments, 0) as scheduled_appointments,
    coalesce(a.kept_appointments, 0) as kept_appointments,
    coalesce(a.no_shows, 0) as no_shows,
    coalesce(a.cancellations, 0) as cancellations,
    coalesce(a.late_cancellations, 0) as late_cancellations,
    cast(a.no_shows as double) / nullif(a.kept_appointments + a.no_shows, 0) as no_show_rate,
    cast(a.no_shows + a.late_cancellations as double)
    / nullif(a.kept_appointments + a.no_shows + a.late_cancellations, 0) as no_show_or_late_cancellation_rate,
    cast(a.late_cancellations as double) / nullif(a.scheduled_appointments, 0) as late_cancellation_rate,
    l.lead_time_p50_days,
    l.lead_time_p90_days,
    case when a.week_start is null then 0 else a.new_patient_visits end as new_patient_visits,
    cast(a.new_patient_visits as double) / nullif(a.kept_appointments, 0) as new_patient_ratio,
    s.schedule_days,
    s.available_minutes,
    s.kept_minutes,
    cast(s.kept_minutes as double) / nullif(s.available_minutes, 0) as schedule_utilisation,
    s.available_slots,
    s.booked_slots,
    cast(s.booked_slots as double) / nullif(s.available_slots, 0) as fill_rate,
    f.third_next_available_days
from schedule_week as s
left join appointment_week as a
    on s.practice_id = a.practice_id and s.provider_id = a.provider_id and s.week_start = a.week_start
left join lead_time as l
    on s.practice_id = l.practice_id and s.provider_id = l.provider_id and s.week_start = l.week_start
left join first_measure as f
    on
        s.practice_id = f.practice_id
        and s.provider_id = f.provider_id
        and s.week_start = f.week_start
        and f.schedule_day_number = 1
