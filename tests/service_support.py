"""The service tier: assay's services called in this process on a real database (SQLite
or PostgreSQL) with the clock under the test's control (time-machine), so leases expire
without sleeping. What the HTTP layer adds is covered by the API tier."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from assay.auth.principals import Principal
from assay.db import Database
from assay.orgs import service as orgs
from assay.orgs.models import Organization, User


@dataclass
class ServiceWorld:
    """An organization with an admin principal on a migrated database."""

    db: Database
    org: Organization
    admin: Principal

    def person(self, role: str) -> Principal:
        with self.db.write() as session:
            org = session.get(Organization, self.org.id)
            user = orgs.create_user(session, org, f"{role}-{uuid.uuid4().hex[:8]}@example.com", role)
            return principal_of(user, org)


def principal_of(user: User, org: Organization) -> Principal:
    return Principal(org.id, org.public_id, org.name, user.id, user.email, user.role, False, org.callback_auth_key, via="session")


START = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
