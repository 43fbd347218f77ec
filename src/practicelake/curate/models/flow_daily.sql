-- How long patients wait and are seen, by provider, location and practice-local day of the
-- appointment, in whole minutes. Each measure uses the visits that have both of its times. A
-- period's percentiles are not made from these rows but from flow_minutes.
select
    a.practice_id,
    a.provider_id,
    a.location_id,
    a.day,
    cast(count(a.wait_minutes) as bigint) as timed_check_ins,
    percentile_cont(0.5) within group (order by a.wait_minutes) as wait_p50_minutes,
    percentile_cont(0.9) within group (order by a.wait_minutes) as wait_p90_minutes,
    cast(count(a.visit_minutes) as bigint) as timed_visits,
    percentile_cont(0.5) within group (order by a.visit_minutes) as visit_duration_p50_minutes,
    percentile_cont(0.9) within group (order by a.visit_minutes) as visit_duration_p90_minutes,
    cast(count(a.cycle_minutes) as bigint) as timed_cycles,
    percentile_cont(0.5) within group (order by a.cycle_minutes) as cycle_time_p50_minutes,
    percentile_cont(0.9) within group (order by a.cycle_minutes) as cycle_time_p90_minutes
from curated.stg_appointment as a
where a.wait_minutes is not null or a.visit_minutes is not null or a.cycle_minutes is not null
group by a.practice_id, a.provider_id, a.location_id, a.day
