-- Appointments of the days from $start to $end by day, provider and hour of the scheduled
-- start (access_hourly), as the front desk sees them; hour NULL for starts known by their
-- day only.
select
    h.day,
    h.provider_id,
    h.hour,
    cast(sum(h.scheduled_appointments) as bigint) as scheduled_appointments,
    cast(sum(h.kept_appointments) as bigint) as kept_appointments,
    cast(sum(h.no_shows) as bigint) as no_shows,
    cast(sum(h.cancellations) as bigint) as cancellations,
    cast(sum(h.checked_in) as bigint) as checked_in
from access_hourly as h
where
    h.practice_id = $practice_id
    and h.day between $start and $end
    and (cast($provider as varchar) is null or h.provider_id = $provider)
    and (cast($location as varchar) is null or h.location_id = $location)
group by h.day, h.provider_id, h.hour
