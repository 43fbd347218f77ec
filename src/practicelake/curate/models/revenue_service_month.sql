-- Revenue by service month: the sums of revenue_service_day over the month's service dates,
-- and the month's rates as ratios of those sums (never averages of daily rates).
with totals as (
    select
        practice_id,
        cast(date_trunc('month', service_date) as date) as service_month,
        payer_id,
        provider_id,
        sum(billed_visits) as billed_visits,
        sum(gross_charges) as gross_charges,
        sum(contractual_adjustments) as contractual_adjustments,
        sum(adjusted_charges) as adjusted_charges,
        sum(payer_payments) as payer_payments,
        sum(patient_payments) as patient_payments,
        sum(payments) as payments,
        sum(denial_write_offs) as denial_write_offs
    from curated.revenue_service_day
    group by practice_id, cast(date_trunc('month', service_date) as date), payer_id, provider_id
    -- A month of visits with no money entry at all (uncharged encounters) has no revenue row.
    having sum(billed_visits) > 0 or sum(payments) <> 0 or sum(contractual_adjustments) <> 0
        or sum(denial_write_offs) <> 0
)

select
    practice_id,
    service_month,
    payer_id,
    provider_id,
    billed_visits,
    gross_charges,
    contractual_adjustments,
    adjusted_charges,
    payer_payments,
    patient_payments,
    payments,
    denial_write_offs,
    cast(payments as double) / nullif(cast(adjusted_charges as double), 0) as net_collection_rate,
    cast(payments as double) / nullif(cast(gross_charges as double), 0) as gross_collection_rate,
    cast(denial_write_offs as double) / nullif(cast(adjusted_charges as double), 0) as denial_write_off_rate
from totals
