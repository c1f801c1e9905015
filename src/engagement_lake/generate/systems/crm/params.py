"""The CRM's one parameter set: every rate, weight and range the backfill and the daily loads
use, written once here.

The sales pipeline is simulated stage by stage: at each stage an opportunity advances with a
probability that depends on its lead source and on its owner's true skill, or is lost; time in
each stage is exponential with a mean that depends on the source, the rep's speed and the deal
type. An open deal's win probability is the rep's read of it: the stage's default, moved up by
recent activity and down by time stuck in the stage, kept within the stage's plausible range.
"""

from __future__ import annotations

import numpy as np

HOUR = 3600 * 1_000_000
STAGE_FLOW = ("Identified", "Qualified", "Proposal", "Negotiation")
STAGE_PROBABILITY = {
    "Identified": 10,
    "Qualified": 25,
    "Proposal": 50,
    "Negotiation": 75,
    "Closed Won": 100,
    "Closed Lost": 0,
}
"""The CRM's default probability of each stage (a closed deal keeps exactly this)."""
STAGE_PROBABILITY_RANGE = {
    "Identified": (5, 20),
    "Qualified": (15, 40),
    "Proposal": (35, 65),
    "Negotiation": (55, 90),
}
"""The plausible range of an open deal's probability in each stage (percent)."""
PROBABILITY_ACTIVITY_WINDOW_DAYS = 14
"""Activities logged on a deal within this many days count as recent."""
PROBABILITY_POINTS_PER_ACTIVITY = 3
"""Points a recent activity adds to a deal's probability ..."""
PROBABILITY_MAX_ACTIVITIES = 4
"""... counting at most this many recent activities."""
PROBABILITY_STALE_POINTS_PER_WEEK = 2.0
"""Points a deal loses per week it sits in its stage beyond the stage's mean time."""
PROBABILITY_JUDGEMENT_POINTS = 4
"""The rep's own read of a deal: a fixed offset per opportunity, uniform in +/- this."""

ADVANCE_BASE = (0.72, 0.70, 0.74, 0.62)
"""Probability of leaving each open stage forward (the last one: to Closed Won)."""
STAGE_DAYS = (6.0, 9.0, 11.0, 8.0)
"""Mean days in each open stage (before the source, rep speed and B2B multipliers)."""
B2B_CYCLE = 2.0
"""B2B deals spend this many times longer in every stage."""
SOURCE_WIN = {
    "FitMap": 1.12,
    "Email Campaign": 0.88,
    "Store Visit": 1.05,
    "Customer Service": 0.97,
    "Web Form": 0.84,
    "Referral": 1.18,
    "Event": 0.95,
}
SOURCE_CYCLE = {
    "FitMap": 0.8,
    "Email Campaign": 1.15,
    "Store Visit": 0.85,
    "Customer Service": 1.0,
    "Web Form": 1.25,
    "Referral": 0.75,
    "Event": 1.1,
}
SOURCE_WEIGHTS = {
    "FitMap": 0.2,
    "Email Campaign": 0.18,
    "Store Visit": 0.2,
    "Customer Service": 0.1,
    "Web Form": 0.17,
    "Referral": 0.08,
    "Event": 0.07,
}
TYPE_WEIGHTS = {
    "Upsell": 0.3,
    "Cross-sell": 0.25,
    "Renewal": 0.12,
    "New Product Launch": 0.18,
    "B2B Uniforms": 0.15,
}
TYPE_AMOUNT = {
    "Upsell": (6.0, 0.6),
    "Cross-sell": (5.7, 0.6),
    "Renewal": (6.3, 0.5),
    "New Product Launch": (6.5, 0.6),
    "B2B Uniforms": (9.4, 0.8),
}
"""Log-normal (mu, sigma) of a deal's first amount, per opportunity type."""
AMOUNT_RANGE = (50.0, 450_000.0)
"""A deal's first amount is clipped to this range (USD) ..."""
AMOUNT_REVISION = (0.85, 1.15)
"""... and revised by a factor in this range when it reaches Proposal."""
THREAT_WEIGHTS = {
    "None": 0.45,
    "Casual Male": 0.15,
    "Destination": 0.1,
    "Amazon": 0.2,
    "Local Tailor": 0.1,
}
THREAT_RECORDED_SHARE = 0.8
"""Deals on which the rep filled in the competitive threat."""
LOSS_WEIGHTS = {
    "Price": 0.3,
    "Fit": 0.2,
    "Timing": 0.15,
    "Competitor": 0.15,
    "No Decision": 0.15,
    "Stock": 0.05,
}
OWNER_FROM_CONTACT_SHARE = 0.8
"""Deals owned by the contact's owner; the others go to a rep of the contact's territory."""

# ----------------------------------------------------------------------------- activities
DEAL_ACTIVITY_RATE = (0.12, 0.2)
"""Activities a rep logs per day a deal is open (other deals, B2B deals), after the first one
logged when the deal is opened."""
LEAD_ACTIVITIES_MEAN = 1.3
"""Poisson mean of activities on a lead that never converts, within its first 60 days."""
ACTIVITY_TYPE_WEIGHTS = {
    "Call": 0.35,
    "Email": 0.3,
    "Meeting": 0.1,
    "Fitting Appointment": 0.12,
    "Proposal Sent": 0.06,
    "Demo": 0.07,
}
ACTIVITY_OUTCOME_WEIGHTS = {
    "Completed": 0.45,
    "No Answer": 0.12,
    "Left Voicemail": 0.1,
    "Rescheduled": 0.08,
    "Positive": 0.17,
    "Negative": 0.08,
}
ACTIVITY_SUBJECT = {
    "Call": "Follow-up call",
    "Email": "Sent fit guide and catalogue",
    "Meeting": "Account review meeting",
    "Fitting Appointment": "Fitting appointment at store",
    "Proposal Sent": "Proposal sent",
    "Demo": "FitMap demo",
}
ACTIVITY_MINUTES = {
    "Call": 15,
    "Email": 0,
    "Meeting": 45,
    "Fitting Appointment": 40,
    "Proposal Sent": 0,
    "Demo": 30,
}
"""Typical minutes of each activity type (an activity takes 0.5-2x that; 0: no duration)."""

# ----------------------------------------------------------------------------- leads
LEAD_SCORE_MEAN = 55.0
LEAD_SCORE_SD = 18.0
LEAD_SCORE_NULL_SHARE = 0.05
"""Leads never scored (the score column is empty)."""
LEAD_GRADE_MIN_SCORE = {"A": 80, "B": 60, "C": 40}
"""Lowest score of each grade; below the last: D."""
LEAD_STATE_NULL_SHARE = 0.1
LEAD_B2B_SHARE = 0.15
"""Leads that name a company."""
LEAD_CONVERT_SHARE = 0.75
"""Share of CRM people's first lead that converts into a contact (within 2-40 days) ..."""
LEAD_CONVERT_PER_SD = 0.12
"""... more likely the higher it was scored: this much more per standard deviation of score."""

QUOTA_STRETCH = (1.1, 1.4)
"""Quota = the rep's expected monthly won amount x a stretch factor drawn per rep."""
OPPS_PER_CONTACT = 0.39 + 0.45 * LEAD_CONVERT_SHARE * 0.63
"""Expected opportunities per CRM person: 0.33 + 0.06 per contact, at least one for contacts
converted from a lead (45% are leads, 75% of those convert, 63% would otherwise have none)."""


def sales_params() -> dict[str, object]:
    """The true pipeline parameters, recorded in ``_truth/sales_params.json``."""
    return {
        "stages": list(STAGE_FLOW),
        "advance_base": list(ADVANCE_BASE),
        "stage_mean_days": list(STAGE_DAYS),
        "source_win_multiplier": SOURCE_WIN,
        "source_cycle_multiplier": SOURCE_CYCLE,
        "b2b_cycle_multiplier": B2B_CYCLE,
        "stage_probability": STAGE_PROBABILITY,
        "stage_probability_range": STAGE_PROBABILITY_RANGE,
        "probability_rule": f"open deal: stage default + {PROBABILITY_POINTS_PER_ACTIVITY} per "
        f"activity of the last {PROBABILITY_ACTIVITY_WINDOW_DAYS} days (at most "
        f"{PROBABILITY_MAX_ACTIVITIES}) - {PROBABILITY_STALE_POINTS_PER_WEEK} per week in the "
        f"stage beyond its mean days + a fixed per-deal offset within "
        f"+/-{PROBABILITY_JUDGEMENT_POINTS}, clipped to the stage's range",
        "note": "advance probability per stage = base x source multiplier x rep skill^0.25; "
        "time in stage ~ Exponential(mean days x source cycle x rep speed [x2 for B2B])",
        "quota_stretch": list(QUOTA_STRETCH),
        "quota_rule": "monthly quota = the rep's expected won amount per month (territory CRM "
        "people / reps x opportunities per contact x mean amount, B2B deals pooled on the B2B "
        "team, x win probability incl. skill) x a stretch per rep x month seasonality x "
        "U(0.95, 1.05)",
    }


def unit_hash(seed: int, key: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) number per integer key (splitmix64), the same in every load: what is
    fixed for a record (a rep's read of a deal, a month's quota noise) is keyed, not drawn."""
    with np.errstate(over="ignore"):
        z = np.asarray(key, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
