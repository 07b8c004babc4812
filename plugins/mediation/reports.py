"""Statistics, SVG charts (server-side, no script, no style attribute) and the register export.

Neither holds sensitive fields: no party, description, location or notes, only case numbers,
codes and dates (案件登记簿 without personal data)."""
from collections import Counter
from statistics import median

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from markupsafe import Markup, escape
from sqlalchemy.orm import selectinload

from core import spreadsheets
from core.sorting import natural_sorted
from core import dates
from plugins.mediation import dates as rule_dates
from plugins.mediation.models import (CATEGORIES, OUTCOMES, SOURCES, STATUSES, TIERS, MediationAgreement,
                                      MediationCase)


def cases(community):
    return (MediationCase.query.options(selectinload(MediationCase.assignments), selectinload(MediationCase.grid))
            .filter_by(community_id=community.id).order_by(MediationCase.opened_at).all())


def stats(community, today=None):
    today = today or dates.today(community)
    rows = cases(community)
    closed = [c for c in rows if c.status == "closed"]
    resolved = [c for c in closed if c.outcome == "resolved"]
    durations = [rule_dates.days_open(c, today) for c in resolved]
    by_month = Counter(dates.month_key(c.opened_at, community) for c in rows)
    return {
        "total": len(rows),
        "open": len(rows) - len(closed),
        "closed": len(closed),
        "resolved": len(resolved),
        "resolution_rate": round(100 * len(resolved) / len(closed)) if closed else None,
        "median_days": median(durations) if durations else None,
        "overdue": [c for c in rows if rule_dates.is_overdue(c, today)],
        "codes": {key: dict(Counter(getattr(c, key) for c in rows)) for key in ("category", "tier", "source")},
        "by_category": _count(rows, "category", CATEGORIES),
        "by_tier": _count(rows, "tier", TIERS),
        "by_source": _count(rows, "source", SOURCES),
        "by_outcome": _count(closed, "outcome", OUTCOMES),
        "by_grid": natural_sorted(Counter(c.grid.name if c.grid else "—" for c in rows).items(), key=lambda kv: kv[0]),
        "by_month": sorted(by_month.items()),
    }


def _count(rows, attr, labels):
    counts = Counter(getattr(c, attr) for c in rows)
    return [(str(labels[k]), counts[k]) for k in labels if counts.get(k)]


def bar_chart(pairs, title):
    """A horizontal bar chart as inline SVG (presentation attributes only: fine under the CSP)."""
    pairs = list(pairs)
    if not pairs:
        return Markup("")
    top = max(v for _k, v in pairs) or 1
    row, label_w, bar_w = 34, 190, 260
    height = row * len(pairs) + 10
    out = [f'<svg class="chart" role="img" viewBox="0 0 {label_w + bar_w + 60} {height}" '
           f'width="100%" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(pairs):
        y = 5 + i * row
        w = max(2, round(bar_w * value / top))
        out.append(f'<text x="{label_w - 8}" y="{y + 21}" text-anchor="end" font-size="15" fill="#1d2327">'
                   f"{escape(label)}</text>")
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row - 10}" rx="3" fill="#0b6158"/>')
        out.append(f'<text x="{label_w + w + 6}" y="{y + 21}" font-size="15" fill="#1d2327">{value}</text>')
    out.append("</svg>")
    # bandit B704: every label and title is escape()d, the rest are numbers
    return Markup("".join(out))  # nosec B704


REGISTER_HEADERS = {
    "number": _l("Case number"), "opened": _l("Opened"), "source": _l("Source"), "category": lazy_pgettext("mediation", "Category"),
    "grid": _l("Grid"), "tier": _l("Tier"), "status": _l("Status"), "outcome": _l("Outcome"),
    "closed": lazy_pgettext("mediation", "Closed"), "days": _l("Days"), "mediators": _l("Mediators"),
    "agreement_effective": _l("Agreement in effect from"),
    "confirmation_deadline": _l("Judicial confirmation deadline"), "overdue": _l("Over one month"),
}
REGISTER_COLUMNS = tuple(REGISTER_HEADERS)


def register_rows(community, today=None):
    """The case register (案件登记簿) without personal data, one dict per case."""
    today = today or dates.today(community)
    agreements = {}
    for ag in (MediationAgreement.query.join(MediationCase).filter(MediationCase.community_id == community.id)
               .order_by(MediationAgreement.id)):
        agreements[ag.case_id] = ag
    out = []
    for c in cases(community):
        ag = agreements.get(c.id)
        eff = ag.effective_on if ag else None
        out.append({
            "number": c.number,
            "opened": dates.local_date(c.opened_at, community).isoformat(),
            "source": str(SOURCES[c.source]),
            "category": str(CATEGORIES[c.category]),
            "grid": c.grid.name if c.grid else "",
            "tier": str(TIERS[c.tier]),
            "status": str(STATUSES[c.status]),
            "outcome": str(OUTCOMES[c.outcome]) if c.outcome else "",
            "closed": dates.local_date(c.closed_at, community).isoformat() if c.closed_at else "",
            "days": rule_dates.days_open(c, today),
            "mediators": len(c.assignments),
            "agreement_effective": eff.isoformat() if eff else "",
            "confirmation_deadline": rule_dates.deadline_for(community, eff).isoformat() if eff else "",
            "overdue": rule_dates.is_overdue(c, today),
        })
    return out


def register_xlsx(community):
    """The register as .xlsx bytes, with translated column titles."""
    wb = spreadsheets.Workbook()  # grid names are written as text, never formulas
    ws = wb.create_sheet("register")
    ws.append([str(REGISTER_HEADERS[k]) for k in REGISTER_COLUMNS])
    for r in register_rows(community):
        ws.append([r[k] for k in REGISTER_COLUMNS])
    return wb.save()
