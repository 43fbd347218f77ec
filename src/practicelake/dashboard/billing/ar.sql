-- A/R on each date asked, from ar_daily: the payers together, or by payer when $by is 'payer'.
select
    s.period,
    case $by when 'payer' then coalesce(a.payer_id, '(unknown)') else '' end as grp,
    max(a.payer_type) as payer_type,
    cast(sum(a.visits_with_balance) as bigint) as visits_with_balance,
    sum(a.ar_0_30) as ar_0_30,
    sum(a.ar_31_60) as ar_31_60,
    sum(a.ar_61_90) as ar_61_90,
    sum(a.ar_91_120) as ar_91_120,
    sum(a.ar_over_120) as ar_over_120,
    sum(a.total_ar) as total_ar,
    sum(a.ar_over_90) as ar_over_90,
    sum(a.credit_balances) as credit_balances,
    sum(a.trailing_charges) as trailing_charges,
    max(a.window_days) as window_days
from ar_daily as a
inner join (select unnest($periods) as period, unnest($dates) as as_of_date) as s
    on a.as_of_date = s.as_of_date
where
    a.practice_id = $practice_id
    and (cast($payer as varchar) is null or a.payer_id = $payer)
group by 1, 2
