-- Payer mix: each payer's share of the month's visits and charges, by service month, from
-- the sums of revenue_service_day.
with by_payer as (
    select
        practice_id,
        cast(date_trunc('month', service_date) as date) as month,
        payer_id,
        payer_type,
        sum(visits) as visits,
        sum(gross_charges) as charges
    from curated.revenue_service_day
    group by practice_id, cast(date_trunc('month', service_date) as date), payer_id, payer_type
)

select
    practice_id,
    month,
    payer_id,
    payer_type,
    visits,
    charges,
    cast(visits as double) / sum(visits) over (partition by practice_id, month) as visit_share,
    cast(charges as double)
        / nullif(cast(sum(charges) over (partition by practice_id, month) as double), 0) as charge_share
from by_payer
