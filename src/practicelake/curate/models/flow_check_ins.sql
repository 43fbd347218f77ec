-- Check-ins by provider, location, practice-local day and hour of the check-in: arrivals for
-- any range of days, and the days that had any (to average over).
select
    a.practice_id,
    a.provider_id,
    a.location_id,
    cast(a.checked_in_local as date) as day,
    cast(extract(hour from a.checked_in_local) as integer) as hour,
    cast(count(*) as bigint) as check_ins
from curated.stg_appointment as a
where a.checked_in_local is not null
group by
    a.practice_id,
    a.provider_id,
    a.location_id,
    cast(a.checked_in_local as date),
    cast(extract(hour from a.checked_in_local) as integer)
