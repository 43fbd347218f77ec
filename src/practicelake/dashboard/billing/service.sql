-- Visits, charges, adjustments and payments of the visits served in each span (period) of
-- days, summed from revenue_service_day; by payer, payer type or provider when $by says so.
select
    s.period,
    case $by
        when 'payer' then coalesce(d.payer_id, '(unknown)')
        when 'payer_type' then coalesce(d.payer_type, '(unknown)')
        when 'provider' then coalesce(d.provider_id, '(unknown)')
        else ''
    end as grp,
    cast(sum(d.visits) as bigint) as visits,
    cast(sum(d.encounters_without_charges) as bigint) as encounters_without_charges,
    cast(sum(d.billed_visits) as bigint) as billed_visits,
    sum(d.gross_charges) as gross_charges,
    sum(d.contractual_adjustments) as contractual_adjustments,
    sum(d.adjusted_charges) as adjusted_charges,
    sum(d.payer_payments) as payer_payments,
    sum(d.patient_payments) as patient_payments,
    sum(d.payments) as payments,
    sum(d.denial_write_offs) as denial_write_offs
from revenue_service_day as d
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on d.service_date between s.first_day and s.last_day
where
    d.practice_id = $practice_id
    and (cast($payer as varchar) is null or d.payer_id = $payer)
    and (cast($provider as varchar) is null or d.provider_id = $provider)
group by 1, 2
