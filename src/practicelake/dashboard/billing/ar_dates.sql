-- For each date asked, the last day on or before it that ar_daily measures the practice's A/R
-- at (every day from its first charge or entry to the end of its last ledger month).
select s.period, max(a.as_of_date) as as_of_date
from ar_daily as a
inner join (select unnest($periods) as period, unnest($dates) as wanted) as s
    on a.as_of_date <= s.wanted
where a.practice_id = $practice_id
group by s.period
