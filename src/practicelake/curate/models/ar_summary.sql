-- Days in A/R and the share of A/R over 90 days, at each month end.
with receivable as (
    select
        practice_id,
        as_of_date,
        sum(case when balance > 0 then balance else 0 end) as total_ar,
        sum(case when balance > 0 and age_days > 90 then balance else 0 end) as ar_over_90,
        sum(case when balance < 0 then -balance else 0 end) as credit_balances
    from curated.ar_visit_balance
    group by practice_id, as_of_date
),

daily_charges as (
    select practice_id, service_date, sum(amount) as charges
    from cleaned.charge
    group by practice_id, service_date
),

first_service as (
    select practice_id, min(service_date) as service_date
    from daily_charges
    group by practice_id
),

-- The trailing window: the 90 days ending at the month end, or fewer in a practice's first
-- 90 days of data.
charge_window as (
    select
        m.practice_id,
        m.as_of_date,
        least(90, greatest(1, date_diff('day', f.service_date, m.as_of_date) + 1)) as window_days,
        sum(coalesce(d.charges, 0)) as charges
    from curated.ar_month_end as m
    left join first_service as f
        on f.practice_id = m.practice_id
    left join daily_charges as d
        on d.practice_id = m.practice_id
        and d.service_date <= m.as_of_date
        and d.service_date > m.as_of_date - interval '90 days'
    group by
        m.practice_id,
        m.as_of_date,
        least(90, greatest(1, date_diff('day', f.service_date, m.as_of_date) + 1))
)

select
    t.practice_id,
    t.as_of_date,
    coalesce(r.total_ar, 0) as total_ar,
    coalesce(r.ar_over_90, 0) as ar_over_90,
    cast(r.ar_over_90 as double) / nullif(cast(r.total_ar as double), 0) as ar_over_90_share,
    coalesce(r.credit_balances, 0) as credit_balances,
    t.charges as trailing_charges,
    t.window_days,
    cast(coalesce(r.total_ar, 0) as double) / nullif(cast(t.charges as double) / t.window_days, 0) as days_in_ar
from charge_window as t
left join receivable as r
    on r.practice_id = t.practice_id and r.as_of_date = t.as_of_date
