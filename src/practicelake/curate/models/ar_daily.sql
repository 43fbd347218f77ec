-- A/R by payer on every day, in age buckets counted from the date of service, with the
-- charges of the trailing days in A/R window. A visit's balance holds from one ledger date to
-- the next (ar_visit_segment) and crosses into an older bucket on the day its age does; each
-- such piece adds its balance on its first day and takes it away after its last, and the
-- day's A/R is the running sum of those changes. So A/R is exact on any day, not only at
-- month ends, and no row is one visit's.
with bucket_ages as (
    -- The ageing buckets by days from service: 0-30 (and any day before service), 31-60,
    -- 61-90, 91-120, over 120.
    select bucket, low_age, high_age
    from (
        values (1, -1000000, 30), (2, 31, 60), (3, 61, 90), (4, 91, 120), (5, 121, 1000000)
    ) as b (bucket, low_age, high_age)
),

segments as (
    select
        practice_id,
        -- '' stands for an unknown payer, so that it joins like the others (no id is empty).
        coalesce(payer_id, '') as payer_key,
        balance,
        date_diff('day', date '1970-01-01', aged_from) as aged_from_day,
        date_diff('day', date '1970-01-01', valid_from) as from_day,
        coalesce(date_diff('day', date '1970-01-01', valid_until), 100000000) as until_day
    from curated.ar_visit_segment
),

pieces as (
    select
        s.practice_id,
        s.payer_key,
        s.balance,
        b.bucket,
        greatest(s.from_day, s.aged_from_day + b.low_age) as start_day,
        least(s.until_day, s.aged_from_day + b.high_age + 1) as end_day
    from segments as s
    cross join bucket_ages as b
),

changes as (
    select practice_id, payer_key, start_day as day_number, bucket, balance, balance as amount, 1 as visits
    from pieces
    where start_day < end_day
    union all
    select practice_id, payer_key, end_day as day_number, bucket, balance, -balance as amount, -1 as visits
    from pieces
    where start_day < end_day and end_day < 100000000
),

daily_changes as (
    select
        practice_id,
        payer_key,
        day_number,
        sum(case when balance > 0 and bucket = 1 then amount else 0 end) as ar_0_30,
        sum(case when balance > 0 and bucket = 2 then amount else 0 end) as ar_31_60,
        sum(case when balance > 0 and bucket = 3 then amount else 0 end) as ar_61_90,
        sum(case when balance > 0 and bucket = 4 then amount else 0 end) as ar_91_120,
        sum(case when balance > 0 and bucket = 5 then amount else 0 end) as ar_over_120,
        sum(case when balance < 0 then -amount else 0 end) as credit_balances,
        sum(case when balance > 0 then visits else 0 end) as visits_with_balance,
        sum(case when balance < 0 then visits else 0 end) as visits_with_credit
    from changes
    group by practice_id, payer_key, day_number
),

served as (
    select
        c.practice_id,
        coalesce(v.payer_id, '') as payer_key,
        date_diff('day', date '1970-01-01', c.service_date) as day_number,
        sum(c.amount) as charges
    from cleaned.charge as c
    inner join curated.stg_billing_visit as v
        on v.practice_id = c.practice_id and v.encounter_id = c.encounter_id
    group by c.practice_id, coalesce(v.payer_id, ''), date_diff('day', date '1970-01-01', c.service_date)
),

payer_start as (
    select practice_id, payer_key, min(day_number) as first_day
    from (
        select practice_id, payer_key, day_number from daily_changes
        union all
        select practice_id, payer_key, day_number from served
    ) as starts
    group by practice_id, payer_key
),

first_service as (
    select practice_id, min(day_number) as first_day
    from served
    group by practice_id
),

payer_days as (
    select c.practice_id, c.as_of_date, c.day_number, s.payer_key
    from curated.ar_calendar as c
    inner join payer_start as s
        on s.practice_id = c.practice_id and c.day_number >= s.first_day
),

running as (
    select
        d.practice_id,
        d.as_of_date,
        d.day_number,
        d.payer_key,
        sum(coalesce(x.visits_with_balance, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as visits_with_balance,
        sum(coalesce(x.visits_with_credit, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as visits_with_credit,
        sum(coalesce(x.ar_0_30, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as ar_0_30,
        sum(coalesce(x.ar_31_60, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as ar_31_60,
        sum(coalesce(x.ar_61_90, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as ar_61_90,
        sum(coalesce(x.ar_91_120, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as ar_91_120,
        sum(coalesce(x.ar_over_120, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as ar_over_120,
        sum(coalesce(x.credit_balances, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows unbounded preceding
        ) as credit_balances,
        -- The payer's days run without a gap, so 90 rows are the 90 days ending on the day.
        sum(coalesce(v.charges, 0)) over (
            partition by d.practice_id, d.payer_key order by d.day_number rows between 89 preceding and current row
        ) as trailing_charges
    from payer_days as d
    left join daily_changes as x
        on x.practice_id = d.practice_id and x.payer_key = d.payer_key and x.day_number = d.day_number
    left join served as v
        on v.practice_id = d.practice_id and v.payer_key = d.payer_key and v.day_number = d.day_number
)

select
    r.practice_id,
    r.as_of_date,
    nullif(r.payer_key, '') as payer_id,
    p.payer_type,
    r.visits_with_balance,
    r.visits_with_credit,
    r.ar_0_30,
    r.ar_31_60,
    r.ar_61_90,
    r.ar_91_120,
    r.ar_over_120,
    r.ar_0_30 + r.ar_31_60 + r.ar_61_90 + r.ar_91_120 + r.ar_over_120 as total_ar,
    r.ar_91_120 + r.ar_over_120 as ar_over_90,
    r.credit_balances,
    r.trailing_charges,
    -- The window: the 90 days ending on the day, or fewer in a practice's first 90 days of data.
    cast(least(90, greatest(1, r.day_number - coalesce(f.first_day, r.day_number) + 1)) as integer) as window_days
from running as r
left join first_service as f
    on f.practice_id = r.practice_id
left join cleaned.payer as p
    on p.practice_id = r.practice_id and p.payer_id = nullif(r.payer_key, '')
