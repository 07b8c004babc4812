"""A person on a community's register: the one human being that register entries, roles and an
account point to (R5; SPC Interpretation on Building Ownership Art. 9). core/services/persons.py
holds the rules; docs/voting.md says how heads are counted from it."""
from sqlalchemy import CheckConstraint, UniqueConstraint, event, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Session

from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class Person(db.Model):
    """One person of a community. Every register entry (``HouseholdMember``) belongs to exactly
    one; a person may own several units and live in others. At most one account per person and
    one person per account in a community (unique constraint); the entries of a person carry
    its account in ``HouseholdMember.user_id`` too.

    The identity document (居民身份证 and others, ``core.identity``) is never stored: only an
    HMAC of it under the instance's ``IDENTITY_HASH_KEY`` (unique in the community: one
    document, one person) and its last four characters for display (PIPL Art. 6, 51).

    ``birth_date`` (出生日期) tells who is 18 or over (年满十八周岁) for a residents' meeting
    (Organic Law of Urban Residents' Committees Art. 9, R12) and its convening (Art. 10, R13).
    When only the year of birth is known, ``birth_year_only`` is true and ``birth_date`` is the
    31 December of that year: the latest day it can be, so a person counts as an adult only
    once they certainly are (``core.services.persons.adults``)."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("community_id", "user_id"),
        UniqueConstraint("community_id", "id_hash"),
        CheckConstraint("id_hash IS NULL OR (id_type IS NOT NULL AND id_last4 IS NOT NULL)", name="id_complete"),
        CheckConstraint("NOT birth_year_only OR birth_date IS NOT NULL", name="birth_year_has_date"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    id_type = db.Column(db.String(20))
    id_hash = db.Column(db.String(64))
    id_last4 = db.Column(db.String(4))
    birth_date = db.Column(db.Date)
    birth_year_only = db.Column(db.Boolean, nullable=False, default=False, server_default=sa_false())
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User")
    members = db.relationship("HouseholdMember", back_populates="person", order_by="HouseholdMember.id")

    @property
    def names(self) -> list[str]:
        """The names of the person's register entries, each once, in the order entered."""
        seen = []
        for m in self.members:
            if m.name not in seen:
                seen.append(m.name)
        return seen

    @property
    def label(self) -> str:
        return " / ".join(self.names) or f"#{self.id}"

    @property
    def id_masked(self) -> str:
        return ("*" * 4 + self.id_last4) if self.id_last4 else ""

    def __repr__(self):
        return f"<Person {self.id}>"


class PersonDistinct(db.Model):
    """Staff checked two people of the same name and found them to be different people: they
    are no longer listed as possible duplicates. ``person_id < other_id``."""

    __tablename__ = "person_distinct"
    __table_args__ = (
        UniqueConstraint("person_id", "other_id"),
        CheckConstraint("person_id < other_id", name="ordered"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    other_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True)
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


@event.listens_for(Session, "before_flush")
def _every_entry_has_a_person(session, flush_context, instances):
    """A register entry added without a person is a person of its own, or, when it carries an
    account, that account's person in the community. Never matched by name (R5): staff link and
    merge people explicitly (core.services.persons)."""
    from core.models.community import Household, HouseholdMember

    new = [o for o in session.new if isinstance(o, HouseholdMember) and o.person is None and o.person_id is None]
    if not new:
        return
    pending = {(p.community_id, p.user_id): p for p in session.new if isinstance(p, Person) and p.user_id}
    with session.no_autoflush:
        for member in new:
            household = member.household or session.get(Household, member.household_id)
            person = None
            if member.user_id is not None:
                key = (household.community_id, member.user_id)
                person = pending.get(key) or session.scalars(select(Person).where(
                    Person.community_id == key[0], Person.user_id == key[1])).first()
            if person is None:
                person = Person(community_id=household.community_id, user_id=member.user_id)
                session.add(person)
                if member.user_id is not None:
                    pending[(household.community_id, member.user_id)] = person
            member.person = person
