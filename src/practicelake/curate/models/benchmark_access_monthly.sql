-- Each practice's contribution to a month of the access benchmark: its kept visits and its
-- rates over the month's appointments (as access_daily counts them). The published cells are
-- made from these by the rules of the contract's [disclosure] (curate.disclosure); a row of
-- this query names a practice and is never written.
select
    practice_id,
    cast(date_trunc('month', day) as date) as month,
    cast(sum(kept_appointments) as bigint) as kept_visits,
    cast(sum(no_shows) as double) / nullif(sum(kept_appointments) + sum(no_shows), 0) as no_show_rate,
    cast(sum(late_cancellations) as double) / nullif(sum(scheduled_appointments), 0) as late_cancellation_rate
from curated.access_daily
group by practice_id, cast(date_trunc('month', day) as date)
having sum(scheduled_appointments) > 0
