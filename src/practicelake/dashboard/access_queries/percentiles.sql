-- The median and 90th percentile of each (period, grp, measure) of `histogram`, a query of rows
-- (period, grp, measure, value, count) that precedes this text as a CTE: counts of
-- observations by value (whole days, whole minutes). The result is exactly DuckDB's
-- percentile_cont over the observations themselves: with n observations sorted, rank
-- h = (n - 1) p, the values at the 0-based ranks floor(h) and ceil(h), interpolated as
-- low (1 - f) + high f, f = h - floor(h): DuckDB's own arithmetic, in doubles, so that the two
-- agree to the last bit. The value at rank r is the first whose running count passes r. No
-- observations, no row.
bins as (
    select period, grp, measure, value, sum(count) as count
    from histogram
    group by period, grp, measure, value
),

cumulative as (
    select
        period,
        grp,
        measure,
        value,
        sum(count) over (
            partition by period, grp, measure order by value rows between unbounded preceding and current row
        ) as through,
        sum(count) over (partition by period, grp, measure) as total
    from bins
),

ranked as (
    select
        c.period,
        c.grp,
        c.measure,
        c.value,
        c.through,
        c.total,
        r.rank,
        cast(c.total - 1 as double) * r.rank as position
    from cumulative as c
    cross join (select cast(0.5 as double) as rank union all select cast(0.9 as double) as rank) as r
),

bounds as (
    select
        period,
        grp,
        measure,
        rank,
        max(total) as observations,
        max(position) as position,
        min(case when through > floor(position) then value end) as low,
        min(case when through > ceil(position) then value end) as high
    from ranked
    group by period, grp, measure, rank
)

select
    period,
    grp,
    measure,
    rank,
    cast(observations as bigint) as observations,
    cast(low as double) * (1 - (position - floor(position)))
    + cast(high as double) * (position - floor(position)) as value
from bounds
