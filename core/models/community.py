"""The community structure: 社区 → 网格 → 楼栋 → 单元 → 户, and memberships."""
from decimal import Decimal

from sqlalchemy import CheckConstraint, UniqueConstraint

from core.extensions import db
from core.models.types import Centi, UTCDateTime, utcnow


class Community(db.Model):
    """A residential community (社区)."""

    __tablename__ = "community"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(40), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    street = db.Column(db.String(120))  # the street office (街道) it belongs to
    default_locale = db.Column(db.String(10), nullable=False, default="zh_Hans")
    # Seconds (附议) that move an open proposal on to coordination.
    seconds_threshold = db.Column(db.Integer, nullable=False, default=5)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # Grows with every change of the community's settings or a module's rules
    # (core.services.settings.touch): what a worker keeps of them between requests is keyed by it.
    config_version = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    def __repr__(self):
        return f"<Community {self.slug}>"


class Grid(db.Model):
    """A grid (网格): the patch one grid worker looks after."""

    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("community_id", "name"),)
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)

    community = db.relationship("Community")


class Building(db.Model):
    """A building (楼栋)."""

    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("community_id", "name"),)
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    grid_id = db.Column(db.Integer, db.ForeignKey("grid.id"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)

    grid = db.relationship("Grid")


class Unit(db.Model):
    """A stairway unit (单元) of a building."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("building_id", "name"),)
    id = db.Column(db.Integer, primary_key=True)
    building_id = db.Column(db.Integer, db.ForeignKey("building.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(40), nullable=False)

    building = db.relationship("Building")


AREA_SOURCES = ("register", "survey", "contract")  # SPC interpretation Art. 8, in that order


class Household(db.Model):
    """A household (户): one exclusive unit with its room number and floor area."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("unit_id", "room"),
        CheckConstraint("floor_area >= 0", name="area_nonneg"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    unit_id = db.Column(db.Integer, db.ForeignKey("unit.id"), nullable=False, index=True)
    room = db.Column(db.String(20), nullable=False)
    # Exclusive floor area in m², exact to 0.01 m².
    floor_area = db.Column(Centi, nullable=False, default=Decimal("0"))
    area_source = db.Column(db.String(10), nullable=False, default="register")
    # Unsold or undelivered developer units: together one head in owners' votes.
    developer_held = db.Column(db.Boolean, nullable=False, default=False)
    note = db.Column(db.String(200))

    unit = db.relationship("Unit")
    members = db.relationship(
        "HouseholdMember", back_populates="household", cascade="all, delete-orphan",
        order_by="HouseholdMember.id",
    )

    @property
    def label(self):
        return f"{self.unit.building.name} {self.unit.name} {self.room}"


RELATIONS = ("owner", "resident", "tenant")


class HouseholdMember(db.Model):
    """A person on a household's register: an owner (业主), a resident or a tenant.

    ``user_id`` links them to an account once staff have verified it; elderly residents without
    a phone stay on the register without one."""

    __tablename__ = "household_member"
    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)
    phone = db.Column(db.String(20))
    relation = db.Column(db.String(10), nullable=False, default="resident")
    # The household's representative (户代表) for one-household-one-vote ballots.
    is_representative = db.Column(db.Boolean, nullable=False, default=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # The person this entry is (core.models.person): one person across every unit they own or
    # live in (R5, SPC Art. 9). Set for every entry (a new entry without one gets its own).
    person_id = db.Column(db.Integer, db.ForeignKey("person.id"), nullable=False, index=True)

    household = db.relationship("Household", back_populates="members")
    user = db.relationship("User")
    person = db.relationship("Person", back_populates="members")

    @property
    def is_owner(self):
        return self.relation == "owner"


class Membership(db.Model):
    """A user's membership of a community, with roles and verification (实名核实)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "community_id"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    roles = db.Column(db.String(120), nullable=False, default="resident")
    household_id = db.Column(db.Integer, db.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    verified_at = db.Column(UTCDateTime)
    verified_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # Where a building head or grid worker serves.
    building_id = db.Column(db.Integer, db.ForeignKey("building.id", ondelete="SET NULL"))
    grid_id = db.Column(db.Integer, db.ForeignKey("grid.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # Where the resident said at registration they live (自报住址), for staff to check: the room
    # when it matched one of the community's, and the building and room as given.
    claimed_household_id = db.Column(db.Integer, db.ForeignKey("household.id", ondelete="SET NULL"))
    claimed_address = db.Column(db.String(200))

    user = db.relationship("User", foreign_keys=[user_id])
    community = db.relationship("Community")
    household = db.relationship("Household", foreign_keys=[household_id])
    claimed_household = db.relationship("Household", foreign_keys=[claimed_household_id])
    verified_by = db.relationship("User", foreign_keys=[verified_by_id])
    building = db.relationship("Building")
    grid = db.relationship("Grid")

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]

    def set_roles(self, roles):
        from core.permissions import ROLES

        self.roles = ",".join(r for r in ROLES if r in set(roles))

    def has_role(self, *roles) -> bool:
        return bool(set(self.role_list) & set(roles))

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def is_staff(self) -> bool:
        return self.has_role("staff", "admin")

    @property
    def awaits_verification(self) -> bool:
        """A resident waiting for staff to verify their household (待核实). Staff roles and
        residence are separate: community staff and admins who are not verified as living here
        are not residents waiting for anything (nobody nags them, the member list does not mark
        them); those who live here are verified like anyone, by another staff member."""
        return not self.is_verified and not self.is_staff

    @classmethod
    def awaiting_verification(cls):
        """``awaits_verification`` as a query condition (roles are stored comma-joined)."""
        return db.and_(cls.verified_at.is_(None), *(cls.roles.notlike(f"%{r}%") for r in ("staff", "admin")))


class CommunityPlugin(db.Model):
    """Whether an installed plugin is enabled for a community."""

    __tablename__ = "community_plugin"
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    plugin = db.Column(db.String(40), primary_key=True)
    enabled = db.Column(db.Boolean, nullable=False)
    changed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    changed_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))


class CommunitySetting(db.Model):
    """A per-community setting of the core or a plugin (JSON value)."""

    __tablename__ = "community_setting"
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    module = db.Column(db.String(40), primary_key=True)
    key = db.Column(db.String(80), primary_key=True)
    value = db.Column(db.JSON, nullable=False)


class ImportBatch(db.Model):
    """Rows of a resident/household file that passed the preview, waiting for confirmation."""

    __tablename__ = "import_batch"
    id = db.Column(db.Integer, primary_key=True)
    token = db.Column(db.String(40), nullable=False, unique=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    filename = db.Column(db.String(200), nullable=False)
    rows = db.Column(db.JSON, nullable=False)
    error_count = db.Column(db.Integer, nullable=False, default=0)
    applied_at = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
