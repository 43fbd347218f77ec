-- Payer mix: each payer's share of the month's visits and charges, by service month.
with by_payer as (
    select
        practice_id,
        service_month as month,
        payer_id,
        count(*) as visits,
        sum(charges) as charges
    from curated.stg_billing_visit
    where service_month is not null
    group by practice_id, service_month, payer_id
)

select
    b.practice_id,
    b.month,
    b.payer_id,
    p.payer_type,
    b.visits,
    b.charges,
    cast(b.visits as double) / sum(b.visits) over (partition by b.practice_id, b.month) as visit_share,
    cast(b.charges as double)
        / nullif(cast(sum(b.charges) over (partition by b.practice_id, b.month) as double), 0) as charge_share
from by_payer as b
left join cleaned.payer as p
    on p.practice_id = b.practice_id and p.payer_id = b.payer_id
