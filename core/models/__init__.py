"""The core's tables. Plugins add their own, prefixed with the plugin's name."""
from core.models.types import Centi, UTCDateTime, utcnow  # noqa: F401
from core.models.accounts import ApiToken, PasswordResetCode, User  # noqa: F401
from core.models.community import (  # noqa: F401
    Building,
    Community,
    CommunityPlugin,
    CommunitySetting,
    Grid,
    Household,
    HouseholdMember,
    ImportBatch,
    Membership,
    Unit,
)
from core.models.proposal import (  # noqa: F401
    CATEGORIES,
    SCOPES,
    STATES,
    Proposal,
    ProposalComment,
    ProposalSecond,
    ProposalTransition,
)
from core.models.person import Person, PersonDistinct  # noqa: F401
from core.models.audit import AuditEntry, IdempotentRequest, Notification  # noqa: F401
from core.models.cache import ContentVersion  # noqa: F401
from core.models.login import LoginFailure  # noqa: F401
