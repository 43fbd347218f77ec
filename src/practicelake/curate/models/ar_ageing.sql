-- A/R ageing by payer at each month end. Age counts from the date of service; a visit's
-- balance ages in one bucket as a whole, and credit balances are kept apart.
select
    b.practice_id,
    b.as_of_date,
    b.payer_id,
    p.payer_type,
    sum(case when b.balance > 0 then 1 else 0 end) as visits_with_balance,
    sum(case when b.balance > 0 and b.age_days <= 30 then b.balance else 0 end) as ar_0_30,
    sum(case when b.balance > 0 and b.age_days between 31 and 60 then b.balance else 0 end) as ar_31_60,
    sum(case when b.balance > 0 and b.age_days between 61 and 90 then b.balance else 0 end) as ar_61_90,
    sum(case when b.balance > 0 and b.age_days between 91 and 120 then b.balance else 0 end) as ar_91_120,
    sum(case when b.balance > 0 and b.age_days > 120 then b.balance else 0 end) as ar_over_120,
    sum(case when b.balance > 0 then b.balance else 0 end) as total_ar,
    sum(case when b.balance < 0 then -b.balance else 0 end) as credit_balances
from curated.ar_visit_balance as b
left join cleaned.payer as p
    on p.practice_id = b.practice_id and p.payer_id = b.payer_id
group by b.practice_id, b.as_of_date, b.payer_id, p.payer_type
