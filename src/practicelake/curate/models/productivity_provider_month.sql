-- Provider productivity per month: the sums of productivity_provider_day over the month, and
-- the month's ratios of those sums.
with totals as (
    select
        practice_id,
        provider_id,
        cast(date_trunc('month', day) as date) as month,
        sum(kept_visits) as kept_visits,
        sum(scheduled_days) as scheduled_days,
        sum(work_rvus) as work_rvus,
        sum(lines_without_value_units) as lines_without_value_units,
        max(fte) as fte,
        sum(charges) as charges,
        sum(collections) as collections
    from curated.productivity_provider_day
    group by practice_id, provider_id, cast(date_trunc('month', day) as date)
)

select
    practice_id,
    provider_id,
    month,
    kept_visits,
    scheduled_days,
    cast(kept_visits as double) / nullif(scheduled_days, 0) as visits_per_scheduled_day,
    round(work_rvus, 4) as work_rvus,
    lines_without_value_units,
    fte,
    round(work_rvus, 4) / nullif(cast(fte as double), 0) as work_rvus_per_fte,
    charges,
    collections,
    cast(round(cast(collections as double) / nullif(kept_visits, 0), 2) as decimal(18, 2)) as revenue_per_visit
from totals
