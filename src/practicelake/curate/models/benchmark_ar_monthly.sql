-- Each practice's contribution to a month end of the A/R benchmark: its days in A/R and its
-- share of A/R over 90 days (ar_summary). The published cells are made from these by the
-- rules of the contract's [disclosure] (curate.disclosure); a row of this query is never written.
select
    practice_id,
    as_of_date,
    days_in_ar,
    ar_over_90_share
from curated.ar_summary
where days_in_ar is not null or ar_over_90_share is not null
