-- Denials by X12 group and CARC, payer, rendering provider and the day the payer's adjustment
-- was posted. Counts of adjustments and amounts only: every column is a sum, so any run of
-- days adds up to its exact figures.
select
    l.practice_id,
    l.entry_date as day,
    l.payer_id,
    v.provider_id,
    l.group_code,
    l.carc_code,
    sum(case when l.amount > 0 then 1 else 0 end) as denials,
    sum(case when l.amount > 0 then l.amount else 0 end) as denied_amount,
    -- A reversal (negative adjustment) is the payer paying after all, on resubmission or appeal.
    sum(case when l.amount < 0 then -l.amount else 0 end) as reversed_amount
from curated.stg_billing_ledger as l
left join curated.stg_billing_visit as v
    on v.practice_id = l.practice_id and v.encounter_id = l.encounter_id
where l.entry = 'adjustment' and l.detail = 'denial'
group by l.practice_id, l.entry_date, l.payer_id, v.provider_id, l.group_code, l.carc_code
