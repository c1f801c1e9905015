"""The shop's one parameter set: every rate, share and range its rows follow, written once.

The backfill (a block of people over all history) and a daily load (one day) read these same
names, so a change here moves both. Probabilities are per row of the table named in the comment;
ranges are uniform (low, high).
"""

from __future__ import annotations

from engagement_lake.generate.vocab import CITIES

# ----------------------------------------------------------------------------- accounts

DUPLICATE_ORDER_SHARE = 0.35
"""Of the orders placed after a duplicate account was opened, the share placed on it."""
DUPLICATE_SIGNUP_SPAN = 0.6
"""A duplicate account opens within this share of the time between first purchase and now."""
UNKNOWN_GENDER_SHARE = 0.05
"""Accounts whose gender the shop never asked (``U``)."""
MISSING_CHANNEL_SHARE = 0.05
"""Accounts with no preferred channel recorded."""
MISSING_OPT_IN_SHARE = 0.03
"""Accounts with no marketing opt-in recorded."""
ACCOUNT_UPDATE_DAYS = 60
"""An account's last update falls within this many days of its sign-up (or tier change)."""
NEW_ACCOUNT_HOURS = (6, 10)
"""Hours of the sign-up day in which a new account is created."""
MOVE_SHARE = 0.0005
MOVE_HOURS = (6, 22)
"""Accounts moving house on a day (a new version of the account, in a daily load), and the
hours of the day the change is recorded."""

# ----------------------------------------------------------------------------- orders

PREFERRED_CHANNEL_SHARE = 0.65
"""Orders placed on the customer's preferred channel; the rest follow ``CHANNEL_MIX``."""
CHANNEL_MIX = {"web": 0.5, "store": 0.25, "app": 0.2, "phone": 0.05}
HOME_STORE_SHARE = 0.85
"""Store orders placed in the customer's home store; the rest in any store."""
LINES_BASE = 0.15
SPEND_PER_EXTRA_LINE = 160.0
"""Lines per order: 1 + Poisson(LINES_BASE + spend / SPEND_PER_EXTRA_LINE), at most MAX_LINES."""
MAX_LINES = 8
MAX_QUANTITY = 4
"""Units of one product on one line."""
MIN_LINE_TARGET = 30.0
"""No line is planned below this amount: an order's spend is split into fewer lines instead
(a planned line far below the cheapest products would pile onto the cheapest one)."""
LINE_SPLIT_SHAPE = 4.0
"""Dirichlet concentration of how an order's spend splits over its lines: at 1 (flat) many
lines are planned far below every price and pile onto the cheapest product."""
MARKDOWN_SHARE = 0.15
MARKDOWNS = (0.2, 0.3, 0.4)
"""Lines sold marked down, and the markdowns (equally likely)."""
PROMO_SHARE = 0.18
"""Orders with a promotion code (codes and their discounts: ``vocab.PROMO_CODES``)."""
SHIPPING_CENTS = 795
FREE_SHIPPING_CENTS = 7500
"""Shipping charged on non-store orders whose discounted subtotal is below the free threshold."""
RECOMMENDED_SHARE = 0.12
"""Lines added from a recommendation."""
STATE_TAX: dict[str, float] = {
    st: round(0.04 + (i % 6) * 0.01, 2) for i, st in enumerate(sorted({c[1] for c in CITIES}))
}
"""Sales-tax rate per state (synthetic but stable)."""
DEFAULT_TAX = 0.06

# ----------------------------------------------------------------------------- order life

CANCEL_SHARE = 0.025
CANCEL_HOURS = (1, 20)
"""Orders cancelled, and how many hours after placing."""
SHIP_DAYS = (0.3, 1.5)
DELIVERY_DAYS = (2.5, 5.0)
"""Days from placing to shipping and to delivery (store orders: handed over at once)."""
ITEM_UPDATE_MINUTES = (1, 30)
"""Minutes after the order a line's record is last touched."""

# ----------------------------------------------------------------------------- fit and returns

WRONG_SIZE_FITMAP = 0.03
"""A FitMap user orders the wrong size on an apparel line."""
WRONG_SIZE_BASE = 0.04
WRONG_SIZE_PER_PROBLEM = 0.30
"""Anyone else: WRONG_SIZE_BASE + WRONG_SIZE_PER_PROBLEM x their sizing problem (0-1)."""
PRODUCT_MISFIT_FITMAP = 0.04
PRODUCT_MISFIT = 0.28
"""A product that runs small or large does not fit (a FitMap user is warned)."""
RETURN_MISFIT = 0.62
"""A line that does not fit is returned."""
RETURN_BASE = 0.03
RETURN_PER_QUALITY_GAP = 0.22
"""A line that fits: RETURN_BASE + RETURN_PER_QUALITY_GAP x (1 - product quality)^2."""
RETURN_DAYS = (1.5, 28.0)
"""Days from delivery to the return."""
POOR_FIT_SHARE = 0.15
"""Fit returns given as ``poor_fit`` rather than too small / too large."""
QUALITY_REASON = (0.8, 0.1)
"""Other returns give ``quality`` with probability a x (1 - quality) + b, else OTHER_REASONS."""
OTHER_REASONS = {"not_as_described": 0.35, "changed_mind": 0.5, "late_delivery": 0.15}
FULL_RETURN_SHARE = 0.85
"""Returns of every unit of the line (else part of them)."""
EXCHANGE_MISFIT = 0.45
EXCHANGE_OTHER = 0.1
"""Returns exchanged rather than refunded: fit returns, others."""

# ----------------------------------------------------------------------------- catalogue

SIZE_MISMATCH_PENALTY = 4.0
"""Score penalty of an apparel product not cut in the person's size (rarely bought)."""
TALL_ON_REGULAR_PENALTY = 1.0
"""Score penalty of a regular cut for a tall person."""
CANDIDATES = 8
"""Price neighbours competing for one order line."""
PRICE_CLOSENESS = 4.0
"""Score per unit of |log(line amount / target)|: keeps order subtotals on the drawn spend."""
MIN_PRICE_FIT = 0.3
"""A favourite category qualifies for a line only if its typical prices (x 1-4 units) come
within about 1.5 standard deviations of the line's target price: keeps subtotals on spend."""
CATEGORY_WINDOW = 0.06
CATALOGUE_WINDOW = 0.02
MIN_WINDOW = 2
"""Half-width of the price window candidates come from: a share of the category (taste lines)
or of the catalogue (other lines), at least MIN_WINDOW (catalogue: 2 x MIN_WINDOW) products."""
REPRICE_SHARE = 0.002
REPRICE_FACTOR = (0.85, 1.1)
MIN_LIST_PRICE = 4.99
"""Active products repriced on a day (daily loads), by a factor, to a .99 price."""
REPRICE_HOURS = (1, 5)
