-- Denials by X12 group and CARC, payer and the month the payer's adjustment was posted.
select
    practice_id,
    cast(date_trunc('month', entry_date) as date) as month,
    payer_id,
    group_code,
    carc_code,
    sum(case when amount > 0 then 1 else 0 end) as denials,
    count(distinct case when amount > 0 then claim_id end) as denied_claims,
    sum(case when amount > 0 then amount else 0 end) as denied_amount,
    -- A reversal (negative adjustment) is the payer paying after all, on resubmission or appeal.
    sum(case when amount < 0 then -amount else 0 end) as reversed_amount
from curated.stg_billing_ledger
where entry = 'adjustment' and detail = 'denial'
group by practice_id, cast(date_trunc('month', entry_date) as date), payer_id, group_code, carc_code
