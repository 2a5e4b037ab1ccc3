"""Who may do what: the acting person and the rules every service applies.

An object the actor may not see is reported exactly like a missing one (NotFound),
so ids of other organisations reveal nothing; an object the actor may see but not
change answers Forbidden. docs/permissions.md holds the matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tracker.services.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    """The person a service acts for: their memberships (organisation id -> role).

    ``system`` is the command line and the demo seed: it sees and changes everything."""

    user_id: int | None
    label: str
    memberships: Mapping[int, str] = field(default_factory=dict)
    system: bool = False

    @property
    def organisation_ids(self) -> frozenset[int]:
        """The organisations the actor belongs to."""
        return frozenset(self.memberships)

    def is_admin(self) -> bool:
        """Whether the actor manages organisations and users."""
        return self.system or "admin" in self.memberships.values()

    def sees(self, *party_ids: int) -> bool:
        """Whether the actor belongs to one of the parties (of a contract)."""
        return self.system or any(party in self.memberships for party in party_ids)

    def works_for(self, *party_ids: int) -> bool:
        """Whether the actor is staff of one of the parties: may change their contract."""
        return self.system or any(self.memberships.get(party) == "staff" for party in party_ids)

    def require_staff_of(self, *party_ids: int) -> None:
        """Forbidden unless the actor is staff of one of the parties."""
        if not self.works_for(*party_ids):
            raise Forbidden("only staff of the buyer or the vendor may change this contract")

    def has_role(self, role: str, *party_ids: int) -> bool:
        """Whether the actor holds ``role`` (staff, finance, admin) in one of the parties."""
        return self.system or any(self.memberships.get(party) == role for party in party_ids)

    def staff_sides(self, buyer_id: int, vendor_id: int) -> tuple[str, ...]:
        """The sides of a contract ("buyer", "vendor") the actor is staff of."""
        sides = (("buyer", buyer_id), ("vendor", vendor_id))
        return tuple(side for side, party in sides if self.memberships.get(party) == "staff")

    def administers(self, organisation_id: int) -> bool:
        """Whether the actor manages the accounts of this organisation."""
        return self.system or self.memberships.get(organisation_id) == "admin"

    def require_admin(self) -> None:
        """Forbidden unless the actor manages accounts somewhere."""
        if not self.is_admin():
            raise Forbidden("only an administrator may manage users")

    def require_system(self) -> None:
        """Forbidden unless acting from the command line."""
        if not self.system:
            raise Forbidden("organisations are created with `tracker org create`")


#: The command line and the demo seed.
SYSTEM = Actor(user_id=None, label="system", system=True)
