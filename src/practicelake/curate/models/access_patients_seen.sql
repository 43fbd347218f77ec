-- Distinct patients seen (kept appointments) in each practice-local calendar month, quarter
-- and year, by provider and location and over all of them. A distinct count does not add up
-- across periods, providers or locations, so each grain and each choice of them has rows of
-- its own; '*' stands for every provider or every location.
with kept as (
    select
        a.practice_id,
        a.provider_id,
        a.location_id,
        a.day,
        a.patient_key
    from curated.stg_appointment as a
    where a.is_kept
),

grain as (
    select 'month' as period_grain
    union all
    select 'quarter'
    union all
    select 'year'
),

in_period as (
    select
        k.practice_id,
        g.period_grain,
        cast(case g.period_grain
            when 'month' then date_trunc('month', k.day)
            when 'quarter' then date_trunc('quarter', k.day)
            else date_trunc('year', k.day)
        end as date) as period_start,
        k.provider_id,
        k.location_id,
        k.patient_key
    from kept as k
    cross join grain as g
)

select
    practice_id,
    period_grain,
    period_start,
    case when grouping(provider_id) = 1 then '*' else provider_id end as provider_id,
    case when grouping(location_id) = 1 then '*' else location_id end as location_id,
    cast(count(distinct patient_key) as bigint) as patients_seen,
    cast(count(*) as bigint) as kept_appointments
from in_period
group by grouping sets (
    (practice_id, period_grain, period_start, provider_id, location_id),
    (practice_id, period_grain, period_start, provider_id),
    (practice_id, period_grain, period_start, location_id),
    (practice_id, period_grain, period_start)
)
