import pytest

from tests.cohorts.factories import CohortFactory


@pytest.fixture
def cohort(db):
    return CohortFactory()


@pytest.fixture
def join_data():
    def make(**overrides):
        data = {
            "name": "Ana Díaz",
            "email": "Ana.Diaz@School.example",
            "role": "school_leader",
            "organisation": "Lincoln Unified",
            "kind": "individual",
            "team_size": "",
            "note": "",
        }
        data.update(overrides)
        return data

    return make
