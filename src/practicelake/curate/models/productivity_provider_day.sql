-- Provider productivity per day: kept visits, whether the provider had a schedule, work RVUs,
-- charges and collections of the visits each provider rendered. Every column is a sum (a
-- scheduled day counts 1), so any run of days adds up to its exact figures.
with kept_visits as (
    -- A kept visit: an encounter (walk-ins included), or a kept appointment with no encounter.
    select practice_id, provider_id, encounter_date as day, count(*) as visits
    from cleaned.encounter
    group by practice_id, provider_id, encounter_date

    union all

    select
        a.practice_id,
        a.provider_id,
        cast(a.start_at at time zone 'UTC' at time zone pr.time_zone as date) as day,
        count(*) as visits
    from cleaned.appointment as a
    inner join reference.practice_settings as pr
        on pr.practice_id = a.practice_id
    where
        a.status in ('fulfilled', 'arrived', 'checked-in')
        and not exists (
            select 1
            from cleaned.encounter as e
            where e.practice_id = a.practice_id and e.appointment_id = a.appointment_id
        )
    group by a.practice_id, a.provider_id, cast(a.start_at at time zone 'UTC' at time zone pr.time_zone as date)
),

scheduled as (
    select distinct practice_id, provider_id, schedule_date as day
    from cleaned.provider_schedule
),

-- An operator's value-units file may list a code twice: take one value per code.
value_units as (
    select procedure_code, max(work_rvu) as work_rvu
    from reference.value_units
    group by procedure_code
),

work as (
    select
        c.practice_id,
        v.provider_id,
        v.service_date as day,
        sum(c.amount) as charges,
        -- Summed as decimals, so any period's total is exact.
        sum(coalesce(cast(u.work_rvu as decimal(12, 4)), 0) * c.units) as work_rvus,
        sum(case when u.procedure_code is null then 1 else 0 end) as lines_without_value_units
    from cleaned.charge as c
    inner join curated.stg_billing_visit as v
        on v.practice_id = c.practice_id and v.encounter_id = c.encounter_id
    left join value_units as u
        on u.procedure_code = c.procedure_code
    group by c.practice_id, v.provider_id, v.service_date
),

-- Collections are cash: payer and patient payments by the day received.
collected as (
    select l.practice_id, v.provider_id, l.entry_date as day, sum(l.amount) as collections
    from curated.stg_billing_ledger as l
    inner join curated.stg_billing_visit as v
        on v.practice_id = l.practice_id and v.encounter_id = l.encounter_id
    where l.entry = 'payment'
    group by l.practice_id, v.provider_id, l.entry_date
),

events as (
    select practice_id, provider_id, day, visits, 0 as scheduled_days, 0 as charges, 0 as work_rvus,
        0 as lines_without_value_units, 0 as collections
    from kept_visits
    union all
    select practice_id, provider_id, day, 0, 1, 0, 0, 0, 0
    from scheduled
    union all
    select practice_id, provider_id, day, 0, 0, charges, work_rvus, lines_without_value_units, 0
    from work
    union all
    select practice_id, provider_id, day, 0, 0, 0, 0, 0, collections
    from collected
),

totals as (
    select
        practice_id,
        provider_id,
        day,
        sum(visits) as kept_visits,
        sum(scheduled_days) as scheduled_days,
        sum(work_rvus) as work_rvus,
        sum(lines_without_value_units) as lines_without_value_units,
        sum(charges) as charges,
        sum(collections) as collections
    from events
    where provider_id is not null and day is not null
    group by practice_id, provider_id, day
)

select
    t.practice_id,
    t.provider_id,
    t.day,
    t.kept_visits,
    t.scheduled_days,
    -- Exact to the reference's 4 decimals: a sum of these doubles, rounded to 4 decimals, is
    -- the decimal sum (productivity_provider_month).
    cast(t.work_rvus as double) as work_rvus,
    t.lines_without_value_units,
    p.fte,
    t.charges,
    t.collections
from totals as t
left join cleaned.provider as p
    on p.practice_id = t.practice_id and p.provider_id = t.provider_id
