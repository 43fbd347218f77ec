-- Charges posted, cash and adjustments posted, claims submitted, adjudicated and first paid
-- in each span (period) of days, summed from revenue_activity_day; by payer or provider when
-- $by says so.
select
    s.period,
    case $by
        when 'payer' then coalesce(d.payer_id, '(unknown)')
        when 'provider' then coalesce(d.provider_id, '(unknown)')
        else ''
    end as grp,
    cast(sum(d.charge_lines_posted) as bigint) as charge_lines_posted,
    sum(d.charges_posted) as charges_posted,
    cast(sum(d.charge_lag_days_total) as bigint) as charge_lag_days_total,
    sum(d.cash_collected) as cash_collected,
    sum(d.patient_payments) as patient_payments,
    sum(d.patient_payments_at_visit) as patient_payments_at_visit,
    sum(d.contractual_adjustments_posted) as contractual_adjustments_posted,
    sum(d.denial_adjustments_posted) as denial_adjustments_posted,
    cast(sum(d.claims_submitted) as bigint) as claims_submitted,
    cast(sum(d.claims_decided) as bigint) as claims_decided,
    cast(sum(d.clean_claims) as bigint) as clean_claims,
    cast(sum(d.claims_adjudicated) as bigint) as claims_adjudicated,
    cast(sum(d.claims_initially_denied) as bigint) as claims_initially_denied,
    sum(d.billed_adjudicated) as billed_adjudicated,
    sum(d.billed_initially_denied) as billed_initially_denied,
    cast(sum(d.claims_first_paid) as bigint) as claims_first_paid,
    cast(sum(d.days_to_payment_total) as bigint) as days_to_payment_total
from revenue_activity_day as d
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on d.day between s.first_day and s.last_day
where
    d.practice_id = $practice_id
    and (cast($payer as varchar) is null or d.payer_id = $payer)
    and (cast($provider as varchar) is null or d.provider_id = $provider)
group by 1, 2
