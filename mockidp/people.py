"""Generated users: realistic OpenID Connect standard claims from a seeded Faker.

Used when a config names no users, so the login page and ID tokens have people to show.
The same seed always gives the same people; generation is cached per process because
importing and seeding Faker costs far more than a test's budget.
"""

from __future__ import annotations

import functools
import random

from .config import UserConfig

PASSWORD = "password"


@functools.lru_cache(maxsize=16)
def generated_users(seed: int, count: int) -> tuple[UserConfig, ...]:
    """``count`` users from ``seed``; each has password ``password``."""
    from faker import Faker  # imported lazily: slow, and only needed without configured users

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    users: list[UserConfig] = []
    taken: set[str] = set()
    for _ in range(count):
        given, family = fake.first_name(), fake.last_name()
        username = f"{given}.{family}".lower()
        while username in taken:
            username += str(rng.randint(0, 9))
        taken.add(username)
        sub = f"user-{rng.getrandbits(48):012x}"
        claims = {
            "name": f"{given} {family}",
            "given_name": given,
            "family_name": family,
            "preferred_username": username,
            "email": f"{username}@example.com",
            "email_verified": True,
            "phone_number": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "phone_number_verified": False,
            "birthdate": fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat(),
            "locale": "en-US",
            "zoneinfo": fake.timezone(),
            "address": {
                "street_address": fake.street_address(),
                "locality": fake.city(),
                "region": fake.state_abbr(),
                "postal_code": fake.postcode(),
                "country": "US",
            },
            "updated_at": 1_700_000_000 + rng.randint(0, 50_000_000),
        }
        users.append(UserConfig(sub=sub, username=username, password=PASSWORD, claims=claims))
    return tuple(users)
