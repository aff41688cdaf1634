"""Unit tests: business rules on a fake unit of work, no database and no server. A bare Flask app
carries the fake as its unit-of-work factory (what create_app wires for the real one)."""
import pytest
from flask import Flask

from app.infra.unit_of_work import FACTORY_KEY

from .fakes import FakeUnitOfWork


@pytest.fixture
def wired():
    """Run the code under test with `uow` (a FakeUnitOfWork) as its unit of work: `with wired(uow):`."""
    contexts = []

    def wire(uow: FakeUnitOfWork):
        app = Flask("unit")
        app.extensions[FACTORY_KEY] = uow
        context = app.app_context()
        context.push()
        contexts.append(context)
        return uow

    yield wire
    for context in reversed(contexts):
        context.pop()
