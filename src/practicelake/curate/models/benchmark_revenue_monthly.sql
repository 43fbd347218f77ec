-- Each practice's contribution to a month of the revenue benchmark: its net collection rate
-- for the visits served in the month (revenue_service_month) and its claims adjudicated in
-- the month with their initial denial rate (revenue_activity_month). A practice contributes
-- to a month with either. The published cells are made from these by the rules of the
-- contract's [disclosure] (curate.disclosure); a row of this query is never written.
with collection as (
    select
        practice_id,
        service_month as month,
        cast(sum(payments) as double) / nullif(cast(sum(adjusted_charges) as double), 0) as net_collection_rate
    from curated.revenue_service_month
    group by practice_id, service_month
),

adjudication as (
    select
        practice_id,
        month,
        cast(sum(claims_adjudicated) as bigint) as claims_adjudicated,
        cast(sum(claims_initially_denied) as double) / nullif(sum(claims_adjudicated), 0) as initial_denial_rate
    from curated.revenue_activity_month
    group by practice_id, month
)

select
    coalesce(c.practice_id, a.practice_id) as practice_id,
    coalesce(c.month, a.month) as month,
    a.claims_adjudicated,
    c.net_collection_rate,
    a.initial_denial_rate
from collection as c
full outer join adjudication as a
    on a.practice_id = c.practice_id and a.month = c.month
