"""Personal data hooks of the points module (PIPL Art. 45 copy, Art. 47 erasure).

Rule: the ledger is append-only and its amounts are kept (R25): the person's account stays with
its balance, entries and lots, and is shown under the anonymous id (the core anonymises the
account it belongs to). Volunteer records keep their minutes and dates. The person's sharing
choice (points_profile) is deleted.

Found by key (core/services/personal_data.py): ``points_profile`` rows of the account (deleted);
``points_certificate.holder_name`` of the person's certificates (``user_id``), replaced by the
anonymous id, and their identity document and volunteer number cleared (the certificate keeps
its number, hours and records). Ledger transfers, their
details and staff's written reasons are not rewritten (R25: append-only)."""
from core.dates import iso
from core.hookspecs import hookimpl


@hookimpl
def personal_data_export(user, community):
    from plugins.points.models import (PointsAccount, PointsActivity, PointsAward, PointsEntry, PointsProfile,
                                       PointsRecord, PointsSignup, PointsTransfer)

    account = PointsAccount.query.filter_by(community_id=community.id, user_id=user.id).first()
    entries = []
    if account is not None:
        rows = (PointsEntry.query.join(PointsTransfer, PointsTransfer.id == PointsEntry.transfer_id)
                .add_columns(PointsTransfer.kind, PointsTransfer.ref, PointsTransfer.reason)
                .filter(PointsEntry.account_id == account.id).order_by(PointsEntry.id).all())
        entries = [{"amount": e.amount, "kind": kind, "ref": ref, "reason": reason, "at": iso(e.created_at)}
                   for e, kind, ref, reason in rows]
    signups = (PointsSignup.query.join(PointsActivity, PointsActivity.id == PointsSignup.activity_id)
               .add_columns(PointsActivity.title, PointsActivity.starts_at)
               .filter(PointsActivity.community_id == community.id, PointsSignup.user_id == user.id)
               .order_by(PointsSignup.id).all())
    records = PointsRecord.query.filter_by(community_id=community.id, user_id=user.id).order_by(PointsRecord.id).all()
    awards = PointsAward.query.filter_by(community_id=community.id, user_id=user.id).order_by(PointsAward.id).all()
    profile = PointsProfile.query.filter_by(community_id=community.id, user_id=user.id).first()
    if account is None and not (signups or records or awards or profile):
        return None
    return {
        "module": "points",
        "balance": account.balance if account is not None else 0,
        "ledger": entries,
        "signups": [{"activity": title, "starts_at": iso(starts), "signed_up_at": iso(s.created_at)}
                    for s, title, starts in signups],
        "volunteer_records": [{"service_date": r.service_date.isoformat(), "minutes": r.minutes, "content": r.content,
                               "evaluation": r.evaluation, "status": r.status} for r in records],
        "awards": [{"event": a.event_name, "ref": a.ref, "points": a.points} for a in awards],
        "share_volunteering": bool(profile and profile.share_volunteering),
        "identity_document": ({"type": profile.id_type, "number": profile.id_number,
                               "volunteer_number": profile.volunteer_number}
                              if profile is not None and (profile.id_number or profile.volunteer_number) else None),
    }


@hookimpl
def personal_data_erase(user, community, actor):
    from core.services.personal_data import anonymous_label
    from plugins.points.models import PointsCertificate, PointsProfile

    label = anonymous_label(user)
    deleted = PointsProfile.query.filter_by(community_id=community.id, user_id=user.id).delete(
        synchronize_session=False)
    certificates = PointsCertificate.query.filter(
        PointsCertificate.community_id == community.id, PointsCertificate.user_id == user.id,
        (PointsCertificate.holder_name != label) | PointsCertificate.holder_id_number.isnot(None)
        | PointsCertificate.volunteer_number.isnot(None)).update(
        {"holder_name": label, "holder_id_type": None, "holder_id_number": None, "volunteer_number": None},
        synchronize_session=False)
    return {"module": "points", "profiles": deleted, "certificates": certificates}
