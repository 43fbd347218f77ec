-- Denial adjustments posted in each span (period) of days, summed from denial_daily; by X12
-- group, by reason (group and CARC), by payer or by provider when $by says so.
select
    s.period,
    case $by
        when 'group' then d.group_code
        when 'reason' then d.group_code || '-' || d.carc_code
        when 'payer' then coalesce(d.payer_id, '(unknown)')
        when 'provider' then coalesce(d.provider_id, '(unknown)')
        else ''
    end as grp,
    cast(sum(d.denials) as bigint) as denials,
    sum(d.denied_amount) as denied_amount,
    sum(d.reversed_amount) as reversed_amount
from denial_daily as d
inner join (select unnest($periods) as period, unnest($starts) as first_day, unnest($ends) as last_day) as s
    on d.day between s.first_day and s.last_day
where
    d.practice_id = $practice_id
    and (cast($payer as varchar) is null or d.payer_id = $payer)
    and (cast($provider as varchar) is null or d.provider_id = $provider)
group by 1, 2
